/** App-wide services handed down with @lit/context: the run engine (a worker pool) and the history database. */
import { createContext } from '@lit/context';
import type { HistoryService } from './services/history-service.ts';
import type { Runner } from './services/runner.ts';
import type { Catalog } from './lib/catalog.ts';

export const runnerContext = createContext<Runner | undefined>(Symbol('racebox-runner'));
export const historyContext = createContext<HistoryService | undefined>(Symbol('racebox-history'));
export const catalogContext = createContext<Catalog | undefined>(Symbol('racebox-catalog'));
