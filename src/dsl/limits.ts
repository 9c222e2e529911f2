/**
 * Limits on definition files, checked before anything reads, parses or walks them, so a file
 * that is too big, too deep or too repetitive gets one clear error instead of exhausting the
 * memory or the call stack of `idflow validate`. docs/dsl.md lists them for authors.
 */

/**
 * Largest definition file read, in bytes (256 KiB). The reference definitions are a few KiB
 * each; the YAML parser needs seconds per MiB on adversarial text, so the limit keeps
 * `idflow validate` fast on any file.
 */
export const MAX_FILE_BYTES = 256 * 1024;

/** Most YAML documents (`---`) in one file. */
export const MAX_DOCUMENTS = 100;

/**
 * Most entries in one mapping or list. The YAML library checks each new key of a mapping
 * against the keys before it, so one huge mapping costs the square of its size.
 */
export const MAX_ITEMS = 1000;

/** Deepest nesting of YAML mappings and lists in a document, aliases expanded. */
export const MAX_NESTING = 100;

/** Deepest nesting of steps inside branching steps (`if`, `switch`, …); top-level steps are 1. */
export const MAX_STEP_NESTING = 16;

/** Most aliases (`*name`) in one document. */
export const MAX_ALIASES = 1000;

/** Most nodes aliases may add to a document when they are expanded (a "billion laughs" guard). */
export const MAX_ALIAS_EXPANSION = 10_000;

/** Longest duration written in a definition: 3650 days, about ten years. */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/** `1048576` → `1 MiB`, `52428800` → `50 MiB`, for messages about file sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${round(bytes / 1024)} KiB`;
  return `${round(bytes / (1024 * 1024))} MiB`;
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}
