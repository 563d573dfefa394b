// The API client with regional failover in the browser.
//
// config.json lists every region's API base URL (`regions`) and the public one (`apiBaseUrl`,
// the name Route 53 routes). At start every region's /health is probed at once; the fastest
// healthy one answers from then on. A request that meets a network error, no answer within
// `timeoutMs` or a 5xx is tried on the next region at once, with the same Idempotency-Key for
// writes: the API answers a repeated key with the first outcome, so a write that did land in the
// region that went quiet is not applied twice. A region that failed is tried last for
// `downMs`, then probed again. Listeners hear every failover, to tell the reader.
"use strict";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `request failed with HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.fields = (body && body.fields) || [];
  }
}

export class Unavailable extends Error {
  constructor(tried) {
    super(`the blog could not be reached (tried ${tried.join(", ")}); check your connection and retry`);
    this.tried = tried;
  }
}

const HEALTH_PATH = "/health";

export function newIdempotencyKey() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class RegionalClient {
  constructor(config, { timeoutMs = 1500, downMs = 30000, fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
    const regions = config.regions && Object.keys(config.regions).length ? config.regions : { public: config.apiBaseUrl };
    this.bases = Object.fromEntries(Object.entries(regions).map(([name, url]) => [name, String(url).replace(/\/+$/, "")]));
    this.timeoutMs = timeoutMs;
    this.downMs = downMs;
    this.fetch = fetchImpl;
    this.latency = {};
    this.downUntil = {};
    this.current = Object.keys(this.bases)[0];
    this.listeners = [];
  }

  onFailover(listener) {
    this.listeners.push(listener);
  }

  regionNames() {
    return Object.keys(this.bases);
  }

  // The order to try: the current region, then the others by measured latency; regions that
  // failed recently go last (still tried: when all are down, the oldest failure is the best bet).
  order(now = Date.now()) {
    const rank = (name) => [this.downUntil[name] > now ? 1 : 0, name === this.current ? 0 : 1, this.latency[name] ?? Infinity];
    return this.regionNames().sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      for (let i = 0; i < x.length; i += 1) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
      return 0;
    });
  }

  async attempt(region, path, init) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const started = performance.now();
    try {
      const response = await this.fetch(this.bases[region] + path, { ...init, signal: controller.signal });
      let body = null;
      try {
        body = await response.json();
      } catch (_) {
        body = null;
      }
      this.latency[region] = performance.now() - started;
      return { response, body };
    } finally {
      clearTimeout(timer);
    }
  }

  // Probe every region's /health at once; the fastest healthy region becomes current.
  async probe() {
    const results = await Promise.all(
      this.regionNames().map(async (region) => {
        try {
          const { response, body } = await this.attempt(region, HEALTH_PATH, { cache: "no-store" });
          return { region, ok: response.ok, body };
        } catch (_) {
          return { region, ok: false };
        }
      }),
    );
    const healthy = results.filter((r) => r.ok).sort((a, b) => this.latency[a.region] - this.latency[b.region]);
    for (const r of results) if (!r.ok) this.downUntil[r.region] = Date.now() + this.downMs;
    if (healthy.length) this.current = healthy[0].region;
    return healthy.map((r) => r.region);
  }

  // One API call. `failover: false` for calls that must not be repeated anywhere (page views:
  // at most once is the right answer for a counter fed by anonymous readers).
  async request(path, { method = "GET", body, headers = {}, idempotencyKey, failover = true } = {}) {
    const init = {
      method,
      cache: "no-store",
      headers: {
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
    const tried = [];
    const regions = failover ? this.order() : [this.current];
    for (const region of regions) {
      tried.push(region);
      let outcome;
      try {
        outcome = await this.attempt(region, path, init);
      } catch (error) {
        this.markDown(region, error.name === "AbortError" ? `no answer within ${this.timeoutMs} ms` : "unreachable");
        continue;
      }
      const { response, body: answer } = outcome;
      if (response.status >= 500 && failover) {
        this.markDown(region, `HTTP ${response.status}`);
        continue;
      }
      this.use(region);
      if (!response.ok) throw new ApiError(response.status, answer);
      return { body: answer, region, status: response.status, headers: response.headers };
    }
    throw new Unavailable(tried);
  }

  markDown(region, reason) {
    this.downUntil[region] = Date.now() + this.downMs;
    if (region === this.current) this.failedFrom = { region, reason, at: new Date() };
  }

  use(region) {
    if (region !== this.current) {
      const from = this.failedFrom && this.failedFrom.region === this.current ? this.failedFrom : { region: this.current };
      this.current = region;
      for (const listener of this.listeners) listener({ from: from.region, to: region, reason: from.reason, at: new Date() });
    }
    this.failedFrom = null;
  }
}
