// Kept in step with package.json by test/unit/version.test.ts.
export const PACKAGE_NAME = '@astralog/otel';
export const PACKAGE_VERSION = '0.1.0';

/** The instrumentation scope of the records this SDK makes itself. */
export const SDK_SCOPE = Object.freeze({ name: PACKAGE_NAME, version: PACKAGE_VERSION });
