declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

// src-main/api/errors.ts names this Node type in a cast; the renderer has no Node types, only this.
declare namespace NodeJS {
  interface ErrnoException extends Error {
    code?: string;
  }
}
