// Entry point of the browser app: registers the root element used by index.html.
import './app-shell.ts';
