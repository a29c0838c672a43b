/** A file system error's cause in a few words, with its code: "no such file (ENOENT)". */
export function fileErrorCause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    ENOENT: "no such file or folder",
    EISDIR: "it is a folder, not a file",
    ENOTDIR: "a part of the path is a file, not a folder",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOSPC: "no space left on the device",
    EEXIST: "it exists already",
  };
  if (code && words[code]) return `${words[code]} (${code})`;
  return error instanceof Error ? error.message : String(error);
}
