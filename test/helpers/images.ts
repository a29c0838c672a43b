/** Local base images made by .ci/setup-docker.sh (no registry is reachable here). */
export const BUSYBOX = process.env.AZLON_TEST_BUSYBOX_IMAGE ?? "busybox:latest";
export const PYTHON = process.env.AZLON_TEST_PYTHON_IMAGE ?? "azlon-test-python:3.11";
