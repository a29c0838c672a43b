import { UsageError } from "../core/errors.js";

/**
 * Images to use in place of the ones tasks name: "python:3.12-slim=azlon-test-python:3.11".
 * For hosts without a registry (a CI job on a mirror, an air-gapped machine): a task's base
 * image, check image, and the FROM lines of its reference solution and of its environment are
 * rewritten, and the model is told the image it can build from.
 */
export type ImageMap = ReadonlyMap<string, string>;

const IMAGE = /^[\w][\w.\-/:@]*$/;

/** --image-map a=b (repeatable) and AZLON_IMAGE_MAP="a=b,c=d"; the flags win. */
export function parseImageMap(flags: readonly string[], env: string | undefined): ImageMap {
  const map = new Map<string, string>();
  const entries = [
    ...(env ?? "")
      .split(/[,\s]+/)
      .filter(Boolean)
      .map((e) => ({ e, from: "AZLON_IMAGE_MAP" })),
    ...flags.map((e) => ({ e, from: "--image-map" })),
  ];
  for (const { e, from } of entries) {
    const [name, image, ...rest] = e.split("=");
    if (!name || !image || rest.length || !IMAGE.test(name) || !IMAGE.test(image)) {
      throw new UsageError(
        `${from} ${JSON.stringify(e)} is not of the form image=replacement`,
        "e.g. --image-map python:3.12-slim=my-mirror/python:3.12-slim",
      );
    }
    map.set(name, image);
  }
  return map;
}

/** The image to use for one a task names. */
export function mapImage(map: ImageMap, image: string): string;
export function mapImage(map: ImageMap, image: string | null): string | null;
export function mapImage(map: ImageMap, image: string | null): string | null {
  return image === null ? null : (map.get(image) ?? image);
}

/** A Dockerfile with its FROM images replaced (flags such as --platform and stage names kept). */
export function mapDockerfile(map: ImageMap, dockerfile: string): string {
  if (map.size === 0) return dockerfile;
  return dockerfile.replace(/^(\s*FROM\s+(?:--\S+\s+)*)(\S+)/gim, (whole, head: string, image: string) =>
    map.has(image) ? `${head}${map.get(image)}` : whole,
  );
}
