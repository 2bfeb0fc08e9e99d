import type { Attributes } from '@opentelemetry/api';
import type { RawResourceAttribute, Resource } from '@opentelemetry/resources';
import { otelResources } from './globals/otel-packages.ts';

/**
 * A resource of plain attributes (no detector's pending ones) whose service name is known at once,
 * and whose OpenTelemetry Resource is built when something first reads the rest of it (a foreign
 * exporter, the Logs SDK): our own exporter needs only the service name, and building the Resource
 * loads @opentelemetry/resources and core (about 60 ms of CPU at start-up).
 */
export class DeferredResource implements Resource {
  /** The `service.name` attribute of the built resource; undefined when it has none. */
  readonly serviceName: string | undefined;
  readonly #build: () => Resource;
  #built: Resource | undefined;

  constructor(serviceName: string | undefined, build: () => Resource) {
    this.serviceName = serviceName;
    this.#build = build;
  }

  get #resource(): Resource {
    return (this.#built ??= this.#build());
  }

  get attributes(): Attributes {
    return this.#resource.attributes;
  }

  /** Built from plain attributes: never any pending. */
  get asyncAttributesPending(): boolean {
    return false;
  }

  get schemaUrl(): string | undefined {
    return this.#resource.schemaUrl;
  }

  waitForAsyncAttributes(): Promise<void> {
    return Promise.resolve();
  }

  merge(other: Resource | null): Resource {
    return this.#resource.merge(other);
  }

  getRawAttributes(): RawResourceAttribute[] {
    return this.#resource.getRawAttributes();
  }
}

/**
 * A client's resource, later wins: OpenTelemetry's defaults (`service.name` unknown_service:<argv0>,
 * telemetry.sdk.*), then `attributes` (OTEL_RESOURCE_ATTRIBUTES), then `service`.
 */
export function clientResource(attributes: Readonly<Record<string, string>>, service: string | undefined): DeferredResource {
  const serviceName = service ?? attributes['service.name'] ?? defaultServiceName();
  return new DeferredResource(serviceName, () => {
    const { defaultResource, resourceFromAttributes } = otelResources();
    return defaultResource()
      .merge(resourceFromAttributes(attributes))
      .merge(resourceFromAttributes(service === undefined ? {} : { 'service.name': service }));
  });
}

/** A resource with no attributes (records that came without one). */
export const EMPTY_RESOURCE = new DeferredResource(undefined, () => otelResources().emptyResource());

/** OpenTelemetry's default service name, as @opentelemetry/resources makes it on Node. */
function defaultServiceName(): string {
  const argv0 = process.argv0;
  return argv0 ? `unknown_service:${argv0}` : 'unknown_service';
}
