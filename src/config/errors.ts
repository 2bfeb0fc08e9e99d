/**
 * Thrown at construction when an option (or, under register, an environment variable) is invalid.
 * The message names the option and what it accepts; it never contains the API key.
 */
export class AstralogConfigError extends Error {
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
  }
}
