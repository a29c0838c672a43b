import type { CheckRequest, ChecksReport, ExecResult, LogTarget, ServiceRequest } from "../core/types.js";

/** Runs a round's checks where they can be trusted: in the project's image, or in a trusted one. */
export interface CheckRunner {
  runChecks(request: CheckRequest, signal: AbortSignal): Promise<ChecksReport>;
  runService(
    request: ServiceRequest,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; checks: ChecksReport }>;
}
