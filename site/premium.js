// Premium media (paid content): sign in to the user pool, ask the API for a session (cookies for
// one post's /premium/<id>/, set by the API), unlock a post with a test purchase where the stack
// allows it, and show the media. Only when the deploy's config has `premium`.
//
// The session is asked of `sessionUrls` in order: deployed, only the API's name (a region's own
// host cannot set cookies for the site's domain), which Route 53 moves to a healthy region; the
// cookies are renewed with half their life left, so a reader who is watching keeps access while
// that name fails over. The cookies themselves are checked by CloudFront at the edge: media keep
// loading with any region gone.
"use strict";

import { newIdempotencyKey } from "./client.js";

const READER_STORAGE = "serverless-dr-reader";
const ATTEMPT_MS = 3000;
const UNLOCK_WAIT_MS = 30000;
const $ = (id) => document.getElementById(id);

export class PremiumError extends Error {}

// --- the reader's sign-in ------------------------------------------------------------------------

function storedReader() {
  try {
    const reader = JSON.parse(sessionStorage.getItem(READER_STORAGE) || "null");
    return reader && reader.idToken && reader.expiresAt > Date.now() ? reader : null;
  } catch {
    return null;
  }
}

async function initiateAuth(config, email, password) {
  let response;
  try {
    response = await fetch(config.authUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth" },
      body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: config.userPoolClientId, AuthParameters: { USERNAME: email, PASSWORD: password } }),
    });
  } catch {
    throw new PremiumError(
      "Sign-in is unavailable right now: the sign-in service does not answer (its region may be down). " +
        "Readers already signed in keep their premium media.",
    );
  }
  const body = await response.json().catch(() => ({}));
  if (response.ok && body.AuthenticationResult) return body.AuthenticationResult;
  const kind = String(body.__type || "").split("#").pop();
  if (kind === "NotAuthorizedException" || kind === "UserNotFoundException") throw new PremiumError("That email address and password do not match.");
  if (kind === "UserNotConfirmedException") throw new PremiumError("Confirm your email address first (the code we sent you).");
  throw new PremiumError(`Sign-in failed: ${body.message || `HTTP ${response.status}`}.`);
}

// --- sessions and unlocks ---------------------------------------------------------------------

async function post(urls, path, reader, body, headers = {}) {
  let last = null;
  for (const base of urls) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ATTEMPT_MS);
    try {
      const response = await fetch(base + path, {
        method: "POST",
        credentials: "include", // the answer's Set-Cookie must be kept
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${reader.idToken}`, ...headers },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status < 500 && response.status !== 429) return { status: response.status, body: answer };
      last = new PremiumError(answer.message || `HTTP ${response.status}`);
    } catch {
      last = new PremiumError("the blog's API does not answer");
    } finally {
      clearTimeout(timer);
    }
  }
  throw new PremiumError(`Premium media cannot be opened right now (${last ? last.message : "no API"}); try again in a minute.`);
}

export function createPremium(config, { onSignedIn } = {}) {
  if (!config || !config.authUrl) return null;
  const urls = config.sessionUrls || [];
  let renewal = null;

  async function session(item) {
    const reader = storedReader();
    if (!reader) return { status: 401 };
    const answer = await post(urls, "/premium/session", reader, { item });
    if (answer.status === 200) {
      // Renew with half the cookies' life left: a reader who is watching never runs out while
      // the API's name fails over.
      const left = answer.body.expires_at * 1000 - Date.now();
      clearTimeout(renewal);
      renewal = setTimeout(() => session(item).catch(() => {}), Math.max(left / 2, 1000));
    }
    if (answer.status === 401) sessionStorage.removeItem(READER_STORAGE);
    return answer;
  }

  async function unlock(item) {
    const reader = storedReader();
    const key = newIdempotencyKey(); // one key per press: a retry elsewhere is the same purchase
    const answer = await post(urls, "/premium/purchases", reader, { item }, { "Idempotency-Key": key });
    if (answer.status !== 201 && answer.status !== 202) return answer;
    // The purchase is written; the session reads it from its region's replica.
    const until = Date.now() + UNLOCK_WAIT_MS;
    for (;;) {
      const opened = await session(item);
      if (opened.status !== 403 || Date.now() > until) return opened;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function signIn(email, password) {
    const result = await initiateAuth(config, email, password);
    const reader = { idToken: result.IdToken, email, expiresAt: Date.now() + Number(result.ExpiresIn || 3600) * 1000 };
    sessionStorage.setItem(READER_STORAGE, JSON.stringify(reader));
    if (onSignedIn) onSignedIn(reader);
    return reader;
  }

  function signOut() {
    clearTimeout(renewal);
    sessionStorage.removeItem(READER_STORAGE);
  }

  return { reader: storedReader, signIn, signOut, session, unlock, testPurchases: Boolean(config.testPurchases) };
}

// --- the page's parts -------------------------------------------------------------------------

function say(text, className = "status") {
  const status = $("premium-status");
  status.className = className;
  status.textContent = text;
}

async function showMedia(item) {
  const response = await fetch(`/premium/${item}/index.json`, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new PremiumError(`the premium media could not be loaded (HTTP ${response.status}); open them again`);
  const { media } = await response.json();
  const shelf = $("premium-media");
  shelf.replaceChildren();
  for (const entry of media || []) {
    const figure = document.createElement("figure");
    const url = `/premium/${item}/${encodeURIComponent(entry.name)}`;
    if (String(entry.type).startsWith("video/")) {
      const video = document.createElement("video");
      video.controls = true;
      video.src = url;
      figure.append(video);
    } else {
      const image = document.createElement("img");
      image.src = url;
      image.alt = entry.title || entry.name;
      figure.append(image);
    }
    const caption = document.createElement("figcaption");
    caption.textContent = entry.title || entry.name;
    figure.append(caption);
    shelf.append(figure);
  }
  shelf.hidden = false;
}

// The post view's premium section: what this reader may do about this post's media.
export function showPremiumFor(premium, post) {
  const section = $("post-premium");
  section.hidden = !(premium && post.premium);
  $("premium-media").hidden = true;
  $("premium-media").replaceChildren();
  $("premium-open").hidden = true;
  $("premium-unlock").hidden = true;
  if (section.hidden) return;
  // The media when the answer opens them, `refused(answer)` otherwise, and an error said.
  const settle = async (ask, refused) => {
    try {
      const answer = await ask();
      if (answer.status !== 200) return refused(answer);
      await showMedia(post.id);
      say("Unlocked: the media below are yours.", "status ok");
    } catch (error) {
      say(error.message, "status refused");
    }
  };
  const message = (answer, otherwise) => (answer.body && answer.body.message ? answer.body.message : otherwise);
  $("premium-open").onclick = () => {
    say("Opening…");
    return settle(
      () => premium.session(post.id),
      (answer) => {
        if (answer.status === 403) {
          say("You have not unlocked this post.", "status refused");
          $("premium-unlock").hidden = !premium.testPurchases;
        } else if (answer.status === 401) {
          say("Your sign-in has expired: sign in again to open premium media.", "status refused");
          $("premium-sign-in").hidden = false;
        } else {
          say(message(answer, `The blog answered ${answer.status}.`), "status refused");
        }
      },
    );
  };
  $("premium-unlock").onclick = () => {
    say("Unlocking (a test purchase: no payment)…");
    $("premium-unlock").hidden = true;
    return settle(
      () => premium.unlock(post.id),
      (answer) => say(message(answer, "The unlock did not go through; try again."), "status refused"),
    );
  };
  const signedIn = Boolean(premium.reader());
  $("premium-sign-in").hidden = signedIn;
  $("premium-open").hidden = !signedIn;
  say(signedIn ? "This post has premium media." : "This post has premium media: sign in to open them.");
}

// The account view: sign in, or who is signed in (the menu says which).
export function showAccount(premium) {
  const reader = premium.reader();
  $("nav-account").querySelector("a").textContent = reader ? "Account" : "Sign in";
  $("sign-in-form").hidden = Boolean(reader);
  $("signed-in").hidden = !reader;
  if (reader) $("signed-in-as").textContent = reader.email;
}

export function wireAccount(premium) {
  $("nav-account").hidden = false;
  showAccount(premium);
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("sign-in-status");
    status.className = "status";
    status.textContent = "Signing in…";
    try {
      await premium.signIn($("reader-email").value.trim(), $("reader-password").value);
      $("sign-in-form").reset();
      status.className = "status ok";
      status.textContent = "Signed in.";
      showAccount(premium);
    } catch (error) {
      status.className = "status refused";
      status.textContent = error.message;
    }
  });
  $("reader-sign-out").addEventListener("click", () => {
    premium.signOut();
    $("sign-in-status").textContent = "Signed out.";
    showAccount(premium);
  });
}
