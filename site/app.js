// The blog: posts, a post, subscribe, share a photo, and an admin view to write, edit and delete.
// Every API call goes through the RegionalClient (client.js), which fails over between regions;
// the API base URLs come from config.json (written by the deploy), never from the code.
"use strict";

import { ApiError, EDGE, RegionalClient, newIdempotencyKey } from "./client.js";
import { excerpt, renderBody } from "./markup.js";
import { createPremium, showAccount, showPremiumFor, wireAccount } from "./premium.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["posts", "post", "subscribe", "photos", "admin", "account"];
const KEY_STORAGE = "serverless-dr-admin-key";
const state = { client: null, config: {}, cursor: null, retry: null, editing: null };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- messages --------------------------------------------------------------------------------

function describe(error) {
  if (error instanceof ApiError) {
    const fields = error.fields.length ? ` (${error.fields.join(", ")})` : "";
    return `${error.message}${fields}`;
  }
  return error.message || String(error);
}

function showError(error, retry) {
  $("error-text").textContent = describe(error);
  state.retry = retry || null;
  $("retry").hidden = !retry;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error-text").textContent = "";
  state.retry = null;
}

const NOTICE_MS = 15000; // a switch is news for a while, not for the rest of the visit
const RECHECK_MS = 15000; // how often the page asks whether its preferred region is back

function announceFailover({ from, to, reason }) {
  if (reason === "back") {
    $("notice").textContent = `Back on ${to}: it answers again.`;
    $("notice").hidden = false;
    $("failover-note").textContent = "";
    showRegion(to);
    return;
  }
  const why = reason ? `${from} was ${reason === "unreachable" ? "unreachable" : `failing (${reason})`}` : `${from} did not answer`;
  $("notice").textContent = `Switched to ${to} because ${why}.`;
  $("notice").hidden = false;
  clearTimeout(state.noticeTimer);
  state.noticeTimer = setTimeout(() => ($("notice").hidden = true), NOTICE_MS);
  $("failover-note").textContent = ` · switched from ${from} at ${new Date().toLocaleTimeString()}`;
}

function showRegion(region) {
  $("region").textContent = region;
}

async function call(path, options) {
  const answer = await state.client.request(path, options);
  showRegion(answer.region);
  return answer;
}

// --- views -----------------------------------------------------------------------------------

function show(view) {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  const nav = view === "post" ? "posts" : view;
  for (const link of document.querySelectorAll(".nav a")) {
    if (link.dataset.view === nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

function views(count) {
  const n = Number(count) || 0;
  return `${n.toLocaleString()} ${n === 1 ? "view" : "views"}`;
}

function postItem(post) {
  const item = document.createElement("li");
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  // With post pages (config postPages) a post is a page of its own: one request, served and
  // cached at the edge, counted from the site's logs. Else the post opens in this page.
  link.href = state.config.postPages ? `/posts/${post.id}` : `#/posts/${post.id}`;
  link.textContent = post.title;
  heading.append(link);
  const meta = document.createElement("p");
  meta.className = "meta";
  const time = document.createElement("time");
  time.dateTime = post.created_at;
  time.textContent = formatDate(post.created_at);
  meta.append(time, ` · ${views(post.views)}`);
  if (post.premium) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "Premium media";
    meta.append(" · ", badge);
  }
  const summary = document.createElement("p");
  summary.textContent = excerpt(post.body || "");
  item.append(heading, meta, summary);
  return item;
}

async function loadPosts(append = false) {
  const query = append && state.cursor ? `?cursor=${encodeURIComponent(state.cursor)}` : "";
  const { body } = await call(`/posts${query}`);
  state.cursor = body.next_cursor;
  const list = $("posts");
  if (!append) list.replaceChildren();
  if (!body.items.length && !append) {
    const empty = document.createElement("li");
    empty.textContent = "No posts yet.";
    list.append(empty);
  }
  list.append(...body.items.map(postItem));
  $("posts-loading").hidden = true;
  $("more").hidden = !state.cursor;
}

async function showPost(id) {
  // Nothing of the previous post stays under this one's address, even when loading it fails.
  $("post-title").textContent = "Loading…";
  for (const field of ["post-date", "post-views"]) $(field).textContent = "";
  $("post-body").replaceChildren();
  $("post-premium").hidden = true;
  const { body: post, region } = await call(`/posts/${encodeURIComponent(id)}`);
  $("post-title").textContent = post.title;
  $("post-date").textContent = formatDate(post.created_at);
  $("post-date").dateTime = post.created_at;
  $("post-views").textContent = views(post.views);
  $("post-body").replaceChildren(renderBody(post.body));
  showPremiumFor(state.premium, post);
  document.title = `${post.title} — Field Notes`;
  // A page view is counted at most once: from the API edge's log when the edge answered the read
  // (and post pages are off: with them the site's logs count the post pages instead), else by
  // POST /events, best effort, never retried in another region.
  if (region === EDGE && !state.config.postPages) return;
  const view = { post_id: post.id, type: "view", reader: readerId() };
  state.client.request("/events", { method: "POST", body: view, failover: false, changesReads: false }).catch(() => {});
}

// A random id this browser keeps for itself, so analytics can estimate distinct readers; it
// names no one. Without storage (private modes) each view goes without it.
function readerId() {
  try {
    let id = localStorage.getItem("reader-id");
    if (!/^[0-9a-f]{32}$/.test(id || "")) {
      id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem("reader-id", id);
    }
    return id;
  } catch {
    return undefined;
  }
}

async function route(event) {
  clearError();
  const hash = location.hash || "#/";
  const post = hash.match(/^#\/posts\/([0-9a-f]{32})$/);
  const views = { "#/subscribe": "subscribe", "#/photos": "photos", "#/admin": "admin", ...(state.premium ? { "#/account": "account" } : {}) };
  const view = post ? "post" : views[hash] || "posts";
  show(view);
  document.title = "Field Notes — a blog that survives a region";
  try {
    if (view === "post") await showPost(post[1]);
    else if (view === "posts") await loadPosts();
    else if (view === "admin") await showAdmin();
    else if (view === "account") showAccount(state.premium);
  } catch (error) {
    showError(error, route);
  }
  // After a navigation (not the first load), focus moves to the new view's heading, so a
  // screen reader announces where the reader is and the keyboard starts from there.
  if (event && event.type === "hashchange") {
    const heading = document.querySelector(`#view-${view} h1`);
    if (heading) heading.focus();
  }
}

// --- subscribe -------------------------------------------------------------------------------

async function subscribe(event) {
  event.preventDefault();
  clearError();
  const input = $("email");
  const status = $("subscribe-status");
  status.className = "status";
  if (!input.checkValidity()) {
    status.textContent = "Please enter an email address like name@example.com.";
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  input.removeAttribute("aria-invalid");
  status.textContent = "Subscribing…";
  const key = newIdempotencyKey(); // one key per press: a failover repeats it, never a new one
  try {
    const email = input.value.trim();
    const send = () => call("/subscribers", { method: "POST", body: { email }, idempotencyKey: key });
    const { body, status: code } = await settledWrite(send, status);
    status.className = "status ok";
    status.textContent =
      code === 202
        ? `Subscribed! A welcome email is on its way to ${email}.`
        : body.status === "already_subscribed"
          ? "You were already subscribed — nothing to do."
          : `Subscribed! A welcome email is on its way to ${body.email}.`;
    $("subscribe-form").reset();
  } catch (error) {
    status.textContent = "";
    showError(error, () => $("subscribe-form").requestSubmit());
  }
}

// --- photos ----------------------------------------------------------------------------------

function putToStorage(grant, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(grant.fields)) form.append(key, value);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", grant.url);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress((100 * event.loaded) / event.total);
    request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`the photo was refused by storage (HTTP ${request.status})`)));
    request.onerror = () => reject(new Error("the photo could not be sent; check your connection and retry"));
    request.send(form);
  });
}

async function waitForThumbnail(name) {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    try {
      return (await call(`/thumbnails/${encodeURIComponent(name)}`)).body;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      await sleep(1000);
    }
  }
  throw new Error("the thumbnail is taking longer than expected; look again in a minute");
}

async function upload(event) {
  event.preventDefault();
  clearError();
  const file = $("photo").files[0];
  const status = $("upload-status");
  const progress = $("upload-progress");
  if (!file) return;
  $("thumbnail-figure").hidden = true;
  try {
    status.textContent = "Uploading…";
    progress.value = 0;
    progress.hidden = false;
    const { body: grant } = await call("/uploads", { method: "POST", body: { content_type: file.type, size: file.size } });
    await putToStorage(grant, file, (percent) => {
      progress.value = percent;
    });
    progress.value = 100;
    status.textContent = "Uploaded. Making the thumbnail…";
    const thumbnail = await waitForThumbnail(grant.thumbnail);
    const image = $("thumbnail");
    image.src = thumbnail.url;
    // Shown only once the picture has loaded, so the figure never flashes a broken image.
    await image.decode();
    $("thumbnail-figure").hidden = false;
    status.textContent = "Done.";
  } catch (error) {
    status.textContent = "";
    showError(error, () => $("upload-form").requestSubmit());
  } finally {
    progress.hidden = true;
  }
}

// --- admin -----------------------------------------------------------------------------------

function adminKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

async function showAdmin() {
  const unlocked = Boolean(adminKey());
  $("key-form").hidden = unlocked;
  $("admin-panel").hidden = !unlocked;
  if (unlocked) await loadAdminPosts();
}

async function loadAdminPosts() {
  const { body } = await call("/posts?limit=50");
  const list = $("admin-posts");
  list.replaceChildren();
  for (const post of body.items) {
    const item = document.createElement("li");
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = `${post.title} (v${post.version})`;
    const actions = document.createElement("span");
    actions.className = "row";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "button secondary";
    edit.textContent = "Edit";
    edit.setAttribute("aria-label", `Edit ${post.title}`);
    edit.addEventListener("click", () => startEdit(post));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button danger";
    remove.textContent = "Delete";
    remove.setAttribute("aria-label", `Delete ${post.title}`);
    remove.addEventListener("click", () => deletePost(post));
    actions.append(edit, remove);
    item.append(title, actions);
    list.append(item);
  }
}

// The editor's draft survives a reload and a closed tab (localStorage), with the idempotency key
// of the write it will make: a draft sent before the tab closed is, sent again, the same write.
// Cleared once the write is applied, or when the author cancels.
const DRAFT_STORAGE = "serverless-dr-draft";

function keepDraft() {
  const draft = { editing: state.editing, newKey: state.newKey, title: $("post-title-input").value, body: $("post-body-input").value };
  localStorage.setItem(DRAFT_STORAGE, JSON.stringify(draft));
}

function forgetDraft() {
  localStorage.removeItem(DRAFT_STORAGE);
}

function restoreDraft() {
  let draft = null;
  try {
    draft = JSON.parse(localStorage.getItem(DRAFT_STORAGE) || "null");
  } catch (_) {
    forgetDraft();
  }
  if (!draft || !(draft.title || draft.body)) return;
  state.editing = draft.editing || null;
  state.newKey = draft.newKey || null;
  $("post-title-input").value = draft.title || "";
  $("post-body-input").value = draft.body || "";
  if (state.editing) {
    $("editor-heading").textContent = "Edit (restored draft)";
    $("save").textContent = "Save changes";
    $("cancel-edit").hidden = false;
  }
  $("editor-status").textContent = "Your unsent draft was restored.";
}

function startEdit(post) {
  state.editing = { id: post.id, version: post.version, key: newIdempotencyKey() };
  $("editor-heading").textContent = `Edit “${post.title}”`;
  $("post-title-input").value = post.title;
  $("post-body-input").value = post.body;
  $("post-premium-input").checked = Boolean(post.premium);
  $("save").textContent = "Save changes";
  $("cancel-edit").hidden = false;
  $("editor-status").textContent = "";
  $("post-title-input").focus();
}

function stopEdit() {
  state.editing = null;
  forgetDraft();
  $("editor").reset();
  $("editor-heading").textContent = "New post";
  $("save").textContent = "Publish";
  $("cancel-edit").hidden = true;
}

function adminHeaders() {
  return { "X-Api-Key": adminKey() };
}

// A deferred write (202) is followed through GET /writes/{id} until it is applied or rejected.
// One the accepting region lost (its id unknown for UNKNOWN_WRITE_MS, or pending past
// PENDING_WRITE_MS) is sent again, with the same Idempotency-Key, through another region: the key
// makes the repeat the same write, never a second one. Until then the page says "not saved yet".
// config.json's lostWriteAfterMs overrides it (a deployment whose regions record a 202 slower).
const UNKNOWN_WRITE_MS = 3000;
const PENDING_WRITE_MS = 20000;
const RESENDS = 2;

async function followWrite(writeId, status) {
  const started = Date.now();
  let seen = false;
  for (;;) {
    let body = null;
    try {
      ({ body } = await call(`/writes/${encodeURIComponent(writeId)}`));
      seen = true;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
    if (body && body.state === "applied") {
      state.client.noteWrite(); // applied now, maybe well after the 202: read from the regions
      return "applied";
    }
    if (body && (body.state === "rejected" || body.state === "dead_lettered")) {
      throw new Error(`the change was not applied: ${body.reason || body.state}`);
    }
    const waited = Date.now() - started;
    const unknownMs = Number(state.config.lostWriteAfterMs) || UNKNOWN_WRITE_MS;
    if ((!seen && waited > unknownMs) || waited > PENDING_WRITE_MS) return "lost";
    status.textContent = "Not saved yet: the blog is applying it…";
    await sleep(500);
  }
}

// `send()` makes the write (the same key every time); the answer once it is applied for sure.
async function settledWrite(send, status) {
  let answer = await send();
  for (let resend = 0; answer.status === 202; resend += 1) {
    if ((await followWrite(answer.body.write_id, status)) === "applied") return answer;
    if (resend === RESENDS) throw new Error("not saved: no region applied the change; press Try again to send it once more");
    state.client.markDown(answer.region, "lost an accepted write");
    status.textContent = "Not saved yet: sending it again through another region…";
    answer = await send();
  }
  return answer;
}

function conflictMessage(error) {
  const now = error.body && error.body.version ? ` (it is at version ${error.body.version} now)` : "";
  return `Someone changed this post since you opened it${now}. Reload it to see their changes, then edit again.`;
}

// The list is refreshed before the confirmation shows, so "Saved." means the list already has it.
// A failed refresh is its own error (retry reloads the list): the write itself was applied.
async function confirmAfterRefresh(status, message) {
  try {
    await loadAdminPosts();
  } catch (error) {
    showError(error, loadAdminPosts);
  }
  status.className = "status ok";
  status.textContent = message;
}

async function save(event) {
  event.preventDefault();
  clearError();
  const status = $("editor-status");
  const title = $("post-title-input").value.trim();
  const text = $("post-body-input").value;
  // Sent only where the stack sells premium media; a post's flag is kept when it is not sent.
  const premium = state.premium ? { premium: $("post-premium-input").checked } : {};
  const editing = state.editing;
  // One idempotency key per edit of one version: pressing Save again (or a failover) repeats it.
  const key = editing ? editing.key : (state.newKey ||= newIdempotencyKey());
  status.className = "status";
  status.textContent = editing ? "Saving…" : "Publishing…";
  $("save").disabled = true;
  try {
    const send = () =>
      editing
        ? call(`/posts/${editing.id}`, { method: "PUT", body: { version: editing.version, title, body: text, ...premium }, headers: adminHeaders(), idempotencyKey: key })
        : call("/posts", { method: "POST", body: { title, body: text, ...premium }, headers: adminHeaders(), idempotencyKey: key });
    await settledWrite(send, status);
    state.newKey = null;
    stopEdit();
    await confirmAfterRefresh(status, editing ? "Saved." : "Published.");
  } catch (error) {
    status.textContent = "";
    if (error instanceof ApiError && error.status === 409 && editing) {
      showError(new Error(conflictMessage(error)), async () => {
        const { body: latest } = await call(`/posts/${editing.id}`);
        startEdit(latest);
        clearError();
      });
    } else if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(KEY_STORAGE);
      showError(new Error("the admin key was refused; unlock again"), showAdmin);
    } else {
      showError(error, () => $("editor").requestSubmit());
    }
  } finally {
    $("save").disabled = false;
  }
}

async function deletePost(post) {
  clearError();
  if (!window.confirm(`Delete “${post.title}”? This cannot be undone.`)) return;
  const status = $("editor-status");
  try {
    const key = newIdempotencyKey();
    await settledWrite(() => call(`/posts/${post.id}?version=${post.version}`, { method: "DELETE", headers: adminHeaders(), idempotencyKey: key }), status);
    await confirmAfterRefresh(status, `Deleted “${post.title}”.`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      showError(new Error(conflictMessage(error)), loadAdminPosts);
    } else {
      showError(error, () => deletePost(post));
    }
  }
}

async function unlock(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
  $("key-form").reset();
  await showAdmin().catch((error) => showError(error, showAdmin));
}

function lock() {
  sessionStorage.removeItem(KEY_STORAGE);
  stopEdit();
  showAdmin();
}

// --- start -----------------------------------------------------------------------------------

// The deploy writes the config into the page itself (a JSON script element, id site-config):
// no request before the first API call. A page served without it (a plain static server over
// site/) reads config.json instead.
async function loadConfig() {
  const embedded = document.getElementById("site-config");
  let config;
  if (embedded) {
    config = JSON.parse(embedded.textContent);
  } else {
    const response = await fetch("config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status})`);
    config = await response.json();
  }
  if (!config.apiBaseUrl && !config.regions) throw new Error("the site's config names no API");
  return config;
}

async function start() {
  let config;
  try {
    config = await loadConfig();
    state.config = config;
  } catch (error) {
    showError(error, () => location.reload());
    return;
  }
  state.client = new RegionalClient(config, { timeoutMs: Number(config.failoverTimeoutMs) || 1500 });
  state.client.onFailover(announceFailover);
  window.sdrClient = state.client; // for the console (and the tests): which region, what is down
  const names = state.client.regionNames();
  $("region-count").textContent = names.length > 1 ? `${names.length} regions (${names.join(", ")})` : names[0];
  $("retry").addEventListener("click", () => {
    const retry = state.retry;
    clearError();
    if (retry) Promise.resolve(retry()).catch((error) => showError(error, retry));
  });
  $("subscribe-form").addEventListener("submit", subscribe);
  $("upload-form").addEventListener("submit", upload);
  $("key-form").addEventListener("submit", unlock);
  $("editor").addEventListener("submit", save);
  $("cancel-edit").addEventListener("click", stopEdit);
  $("editor").addEventListener("input", () => {
    if (!state.editing && !state.newKey) state.newKey = newIdempotencyKey();
    keepDraft();
  });
  restoreDraft();
  state.premium = createPremium(config.premium);
  if (state.premium) wireAccount(state.premium);
  $("premium-choice").hidden = !state.premium;
  $("sign-out").addEventListener("click", lock);
  $("more").addEventListener("click", () => loadPosts(true).catch((error) => showError(error, () => loadPosts(true))));
  window.addEventListener("hashchange", route);
  // "Skip to content" must not change the route (#main is no view): it moves focus only.
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    $("main").focus();
  });
  $("failover-promise").hidden = names.length < 2;
  const healthy = await state.client.probe();
  if (names.length > 1) setInterval(() => state.client.recheck().catch(() => {}), RECHECK_MS);
  showRegion(healthy[0] || "no region answered yet");
  await route();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
