/** The brand every copy of AstralogConfigError carries. */
const CONFIG_ERROR = Symbol.for('@astralog/otel.config-error');

/**
 * Thrown at construction when an option (or, under register, an environment variable) is invalid.
 * The message names the option and what it accepts; it never contains the API key.
 */
export class AstralogConfigError extends Error {
  /**
   * Each entry point (the library, /pino, /winston, /lambda; ESM and CommonJS) bundles its own copy
   * of this class: `instanceof` recognises an error from any of them by its brand.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONFIG_ERROR] === true;
  }

  override readonly name = 'AstralogConfigError';
  readonly code = 'ASTRALOG_CONFIG';
  /** The option (or environment variable) at fault. */
  readonly option: string;
  /** What is wrong, without the option's name (register puts the variable's name in front instead). */
  readonly detail: string;

  constructor(option: string, detail: string) {
    super(`${option}: ${detail}`);
    this.option = option;
    this.detail = detail;
    Object.defineProperty(this, CONFIG_ERROR, { value: true }); // not enumerable: inspect and JSON do not show it
  }
}
