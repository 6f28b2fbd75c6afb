// Types for Comlink's Node adapter, imported by its file path (the package has no exports map for it).
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export interface NodeEndpoint {
    postMessage(message: never, transfer?: never): void;
    on(type: string, listener: (value: never) => void): unknown;
    off(type: string, listener: (value: never) => void): unknown;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
