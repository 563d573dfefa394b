// The API client with regional failover in the browser.
//
// config.json lists every region's API base URL (`regions`) and the public one (`apiBaseUrl`,
// the name Route 53 routes). At start every region's /health is probed at once; the fastest
// healthy one answers from then on. A request that meets a network error, no answer within
// `timeoutMs` or a 5xx is tried on the next region at once, with the same Idempotency-Key for
// writes: the API answers a repeated key with the first outcome, so a write that did land in the
// region that went quiet is not applied twice. A 429 (throttled) moves on too; the region is
// left alone for its Retry-After. With nowhere else to go, the client waits that long (at most
// MAX_RETRY_AFTER_MS) and tries once more. Requests are hedged: a read, or a write that carries an
// Idempotency-Key, with no answer after about the region's p95 latency for its kind is also sent
// to the next region, and the first good answer wins, so a hanging region costs a fraction of a
// second, not the timeout. A hedged write cannot apply twice: both copies carry one key, and the
// API answers a repeated key with the first outcome. A region that failed
// is tried last for `downMs` (or its Retry-After); `recheck()` brings the page back to the
// region it preferred once that one answers its health check twice in a row. Listeners hear
// every switch, to tell the reader.
//
// With `edge` in config.json (the API's CloudFront distribution), reads go there first: it
// answers from its cache and fails over between regions itself, per request. It is tried like a
// region (timeout, hedge, down for a while) and never takes a write: writes go to the regions.
// For `edgeCacheSeconds` after its last write, this page reads from the regions, not the edge,
// so a writer sees its own change at once (a post's stored answer at the edge is rewritten and
// invalidated seconds after the write reaches it); others see it within edgeCacheSeconds.
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
const MAX_RETRY_AFTER_MS = 5000;
// Never sooner than a healthy region's jitter, never later than this. A write waits for its
// confirmation in every in-sync region (about the replication lag), so its bound is longer.
const HEDGE_BOUNDS_MS = { read: [100, 500], write: [100, 1500] };
const LATENCY_WINDOW = 20;
const MIN_WRITE_SAMPLES = 5; // until then a write's hedge delay follows the region's reads
const kindOf = (method) => (["GET", "HEAD", "OPTIONS"].includes(method || "GET") ? "read" : "write");
export const EDGE = "edge";

export class Throttled extends Error {
  constructor(retryAfterMs) {
    super(`the blog is busy; try again in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.status = 429;
    this.retryAfterMs = retryAfterMs;
  }
}

// Retry-After in seconds or as an HTTP date, bounded; 1 s when absent or unreadable.
export function retryAfterMs(response, now = Date.now()) {
  const value = response.headers && response.headers.get("Retry-After");
  let ms = 1000;
  if (value && /^\d+$/.test(value.trim())) ms = Number(value) * 1000;
  else if (value && !Number.isNaN(Date.parse(value))) ms = Date.parse(value) - now;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

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
    this.edge = config.edge ? String(config.edge).replace(/\/+$/, "") : null;
    if (this.edge) this.bases[EDGE] = this.edge;
    this.edgeFreshMs = (Number(config.edgeCacheSeconds) || 0) * 1000;
    this.wroteAt = null;
    this.timeoutMs = timeoutMs;
    this.downMs = downMs;
    this.fetch = fetchImpl;
    this.latency = {};
    this.samples = { read: {}, write: {} };
    this.downUntil = {};
    this.healthyStreak = {};
    this.current = Object.keys(this.bases)[0];
    this.listeners = [];
  }

  onFailover(listener) {
    this.listeners.push(listener);
  }

  // The regions (the edge is not one: it reads from them).
  regionNames() {
    return Object.keys(this.bases).filter((name) => name !== EDGE);
  }

  // The order to try: for a read the edge first (unless this page wrote lately), then the current
  // region, then the others by measured latency; regions that failed recently go last (still
  // tried: when all are down, the oldest failure is the best bet). A write never goes to the edge.
  order(now = Date.now(), kind = "read") {
    const rank = (name) => [
      this.downUntil[name] > now ? 1 : 0,
      name === EDGE ? 0 : 1,
      name === this.current ? 0 : 1,
      this.latency[name] ?? Infinity,
    ];
    const wroteLately = this.wroteAt !== null && now - this.wroteAt <= this.edgeFreshMs;
    const names = kind === "read" && this.edge && !wroteLately ? [...this.regionNames(), EDGE] : this.regionNames();
    return names.sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      for (let i = 0; i < x.length; i += 1) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
      return 0;
    });
  }

  // A write was made (or applied): this page's reads skip the edge for a while.
  noteWrite(now = Date.now()) {
    this.wroteAt = now;
  }

  url(region, path) {
    return this.bases[region] + path;
  }

  async attempt(region, path, init, cancel) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    if (cancel) cancel.addEventListener("abort", () => controller.abort());
    const started = performance.now();
    try {
      const response = await this.fetch(this.url(region, path), { ...init, signal: controller.signal });
      let body = null;
      try {
        body = await response.json();
      } catch (_) {
        body = null;
      }
      this.record(region, performance.now() - started, kindOf(init.method));
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
    if (healthy.length) this.current = this.preferred = healthy[0].region;
    return healthy.map((r) => r.region);
  }

  record(region, ms, kind = "read") {
    this.latency[region] = ms;
    this.samples[kind][region] = [...(this.samples[kind][region] || []), ms].slice(-LATENCY_WINDOW);
  }

  // How long a request waits before it is also sent elsewhere: the region's p95 for its kind
  // (reads', until enough writes were timed), bounded.
  hedgeDelayMs(region, kind = "read") {
    const writes = this.samples.write[region] || [];
    const basis = kind === "write" && writes.length >= MIN_WRITE_SAMPLES ? writes : this.samples.read[region] || [];
    const seen = [...basis].sort((a, b) => a - b);
    const [low, high] = HEDGE_BOUNDS_MS[kind];
    const p95 = seen.length ? seen[Math.min(seen.length - 1, Math.floor(seen.length * 0.95))] : high;
    return Math.min(high, Math.max(low, p95));
  }

  // Back to the preferred (fastest at start) region once it is healthy again: two health
  // checks in a row, so a flapping region does not bounce the page. Call it periodically.
  async recheck() {
    const preferred = this.preferred;
    if (!preferred || preferred === this.current || this.downUntil[preferred] > Date.now()) return false;
    try {
      const { response } = await this.attempt(preferred, HEALTH_PATH, { cache: "no-store" });
      this.healthyStreak[preferred] = response.ok ? (this.healthyStreak[preferred] || 0) + 1 : 0;
    } catch (_) {
      this.healthyStreak[preferred] = 0;
    }
    if (this.healthyStreak[preferred] < 2) return false;
    this.healthyStreak[preferred] = 0;
    this.failedFrom = { region: this.current, reason: "back" };
    this.use(preferred);
    return true;
  }

  // A region whose answer says "go elsewhere": a 5xx, or throttled (429).
  movesOn(region, response) {
    const askedToWait = response.status === 429 || (response.status === 503 && response.headers && response.headers.get("Retry-After"));
    if (response.status >= 500 && !askedToWait) {
      this.markDown(region, `HTTP ${response.status}`);
      return true;
    }
    if (askedToWait) {
      const wait = retryAfterMs(response);
      this.markDown(region, `busy (HTTP ${response.status})`, Math.max(wait, 1000));
      this.lastRetryAfterMs = wait;
      return true;
    }
    return false;
  }

  // One API call. `failover: false` for calls that must not be repeated anywhere (page views:
  // at most once is the right answer for a counter fed by anonymous readers).
  // `changesReads: false` for a write no read shows (a page view): it leaves the edge's cache in use.
  async request(path, { method = "GET", body, headers = {}, idempotencyKey, failover = true, changesReads = true } = {}) {
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
    this.lastRetryAfterMs = null;
    const kind = kindOf(method);
    const regions = failover ? this.order(Date.now(), kind) : [this.order(Date.now(), kind)[0]];
    try {
      const hedgeable = method === "GET" || Boolean(idempotencyKey); // a keyed write applies once
      const answer =
        hedgeable && failover && regions.length > 1 ? await this.hedged(path, init, regions) : await this.inTurn(path, init, regions, failover);
      if (kind === "write" && changesReads && this.edge) this.noteWrite();
      return answer;
    } catch (error) {
      if (!(error instanceof Unavailable) || this.lastRetryAfterMs === null) throw error;
      // Every region was throttled: wait as asked (bounded), then once more where it is least busy.
      const wait = this.lastRetryAfterMs;
      await new Promise((resolve) => setTimeout(resolve, wait));
      this.lastRetryAfterMs = null;
      try {
        return await this.inTurn(path, init, [this.order(Date.now(), kind)[0]], false);
      } catch (again) {
        if (again instanceof ApiError && again.status === 429) throw new Throttled(wait);
        throw again;
      }
    }
  }

  // One region after another, each with the full timeout.
  async inTurn(path, init, regions, failover) {
    const tried = [];
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
      if (failover && this.movesOn(region, response)) continue;
      this.use(region);
      if (!response.ok) throw new ApiError(response.status, answer);
      return { body: answer, region, status: response.status, headers: response.headers };
    }
    throw new Unavailable(tried);
  }

  // A request sent to the first region, and to the next one when the first has not answered
  // within its hedge delay (or failed); the first good answer wins and the others are cancelled.
  hedged(path, init, regions) {
    const kind = kindOf(init.method);
    return new Promise((resolve, reject) => {
      const tried = [];
      const cancels = [];
      let next = 0;
      let pending = 0;
      let settled = false;
      const settle = (region, response, body) => {
        settled = true;
        cancels.forEach((c) => c.abort());
        this.use(region);
        if (!response.ok) reject(new ApiError(response.status, body));
        else resolve({ body, region, status: response.status, headers: response.headers });
      };
      const launch = () => {
        if (settled || next >= regions.length) {
          if (!settled && pending === 0) reject(new Unavailable(tried));
          return;
        }
        const region = regions[next++];
        const cancel = new AbortController();
        tried.push(region);
        cancels.push(cancel);
        pending += 1;
        const hedge = setTimeout(launch, this.hedgeDelayMs(region, kind));
        this.attempt(region, path, init, cancel.signal).then(
          ({ response, body }) => {
            pending -= 1;
            if (settled) return;
            if (this.movesOn(region, response)) {
              clearTimeout(hedge);
              launch();
              return;
            }
            clearTimeout(hedge);
            settle(region, response, body);
          },
          (error) => {
            pending -= 1;
            if (settled) return;
            clearTimeout(hedge);
            this.markDown(region, error.name === "AbortError" ? `no answer within ${this.timeoutMs} ms` : "unreachable");
            launch();
          },
        );
      };
      launch();
    });
  }

  markDown(region, reason, forMs = this.downMs) {
    this.downUntil[region] = Date.now() + forMs;
    if (region === this.current) this.failedFrom = { region, reason, at: new Date() };
  }

  use(region) {
    if (region === EDGE) return; // the edge answered a read: the writes' region stays as it was
    if (region !== this.current) {
      const from = this.failedFrom && this.failedFrom.region === this.current ? this.failedFrom : { region: this.current };
      this.current = region;
      for (const listener of this.listeners) listener({ from: from.region, to: region, reason: from.reason, at: new Date() });
    }
    this.failedFrom = null;
  }
}
