// The blog front end: reads the API base URL from config.json (written by the deploy), never
// from the code, so the same files work for every stack and region.
"use strict";

const state = { api: null, cursor: null };
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `request failed with HTTP ${status}`);
    this.status = status;
    this.fields = (body && body.fields) || [];
  }
}

function showError(error) {
  const box = $("error");
  const fields = error.fields && error.fields.length ? ` (${error.fields.join(", ")})` : "";
  box.textContent = `${error.message}${fields}`;
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status})`);
  const config = await response.json();
  if (!config.apiBaseUrl) throw new Error("config.json has no apiBaseUrl");
  state.api = config.apiBaseUrl.replace(/\/+$/, "");
}

async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.body ? { "Content-Type": "application/json" } : {}), ...(options.headers || {}) } };
  const response = await fetch(state.api + path, init);
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function showRegion() {
  try {
    const health = await api("/health");
    $("region").textContent = health.region;
  } catch (error) {
    $("region").textContent = "unavailable";
  }
}

function renderPosts(items, append) {
  const list = $("posts");
  if (!append) list.replaceChildren();
  if (!items.length && !append) {
    const empty = document.createElement("li");
    empty.textContent = "No posts yet.";
    list.append(empty);
  }
  for (const post of items) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `#/posts/${post.id}`;
    link.textContent = post.title;
    item.append(link);
    list.append(item);
  }
}

async function loadPosts(append = false) {
  const query = append && state.cursor ? `?cursor=${encodeURIComponent(state.cursor)}` : "";
  const page = await api(`/posts${query}`);
  state.cursor = page.next_cursor;
  renderPosts(page.items, append);
  $("more").hidden = !state.cursor;
}

async function showPost(id) {
  const post = await api(`/posts/${encodeURIComponent(id)}`);
  $("post-title").textContent = post.title;
  $("post-date").textContent = new Date(post.created_at).toLocaleDateString();
  $("post-views").textContent = String(post.views);
  $("post-body").textContent = post.body;
  $("posts-view").hidden = true;
  $("post-view").hidden = false;
  // A page view is best effort: never let it break reading.
  api("/events", { method: "POST", body: JSON.stringify({ post_id: post.id, type: "view" }) }).catch(() => {});
}

async function route() {
  clearError();
  const match = location.hash.match(/^#\/posts\/([0-9a-f]{32})$/);
  try {
    if (match) {
      await showPost(match[1]);
    } else {
      $("post-view").hidden = true;
      $("posts-view").hidden = false;
      await loadPosts();
    }
  } catch (error) {
    showError(error);
  }
}

async function subscribe(event) {
  event.preventDefault();
  clearError();
  const status = $("subscribe-status");
  status.textContent = "Subscribing…";
  try {
    const result = await api("/subscribers", { method: "POST", body: JSON.stringify({ email: $("email").value.trim() }) });
    status.textContent = result.status === "already_subscribed" ? "You were already subscribed." : "Subscribed! Check your inbox.";
    $("subscribe-form").reset();
  } catch (error) {
    status.textContent = "";
    showError(error);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForThumbnail(name) {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    try {
      return await api(`/thumbnails/${encodeURIComponent(name)}`);
    } catch (error) {
      if (error.status !== 404) throw error;
      await sleep(2000);
    }
  }
  throw new Error("the thumbnail is taking longer than expected; try again later");
}

async function upload(event) {
  event.preventDefault();
  clearError();
  const file = $("photo").files[0];
  const status = $("upload-status");
  if (!file) return;
  try {
    status.textContent = "Uploading…";
    const grant = await api("/uploads", { method: "POST", body: JSON.stringify({ content_type: file.type, size: file.size }) });
    const form = new FormData();
    for (const [key, value] of Object.entries(grant.fields)) form.append(key, value);
    form.append("file", file);
    const stored = await fetch(grant.url, { method: "POST", body: form });
    if (!stored.ok) throw new Error(`the photo was refused by storage (HTTP ${stored.status})`);
    status.textContent = "Making a thumbnail…";
    const thumbnail = await waitForThumbnail(grant.thumbnail);
    $("thumbnail").src = thumbnail.url;
    $("thumbnail").hidden = false;
    status.textContent = "Done.";
  } catch (error) {
    status.textContent = "";
    showError(error);
  }
}

async function start() {
  try {
    await loadConfig();
  } catch (error) {
    showError(error);
    return;
  }
  $("subscribe-form").addEventListener("submit", subscribe);
  $("upload-form").addEventListener("submit", upload);
  $("more").addEventListener("click", () => loadPosts(true).catch(showError));
  window.addEventListener("hashchange", route);
  await Promise.all([showRegion(), route()]);
}

document.addEventListener("DOMContentLoaded", start);
