/** The exit codes of every command (DESIGN.md, Commands). */
export enum ExitCode {
  Success = 0,
  /** bad input, a failed render or validation, an external command that failed */
  Error = 1,
  /** unknown command or option */
  Usage = 2,
  /** differences found (render --check, diff) */
  Differences = 3,
}
