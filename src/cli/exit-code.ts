/** The exit codes of every command (DESIGN.md, Commands). */
export enum ExitCode {
  Success = 0,
  /** bad input, a failed render or validation, an external command that failed */
  Error = 1,
  /** a usage mistake: an unknown command or option, no command, a missing, empty or repeated value */
  Usage = 2,
  /** differences found (render --check, diff) */
  Differences = 3,
}
