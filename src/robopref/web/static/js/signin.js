// The sign-in page: a token in (typed, or from the link's #token=… fragment), a page out.

import { ApiError, NetworkError, session, signIn } from "./api.js";
import { $, show } from "./dom.js";

const PAGES = new Set(["/annotate", "/calibration", "/rank", "/admin"]);

function destination(me) {
  const next = new URLSearchParams(location.search).get("next");
  if (next && PAGES.has(next)) return next;
  return me.role === "admin" ? "/admin" : "/annotate";
}

async function tryToken(token) {
  const error = $("#error");
  show(error, false);
  try {
    const me = await signIn(token);
    location.replace(destination(me));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) error.textContent = "That token is not valid (or was replaced). Ask your lead for a new one.";
    else if (err instanceof NetworkError) error.textContent = "The server cannot be reached. Check the connection and try again.";
    else error.textContent = err.detail || err.message;
    show(error, true);
  }
}

async function main() {
  $("#sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    tryToken($("#token").value.trim());
  });
  // a link like http://host/#token=… signs in at once; the fragment never reaches the server
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (token) {
    history.replaceState(null, "", location.pathname + location.search);
    await tryToken(token);
    return;
  }
  try {
    const me = await session({ signIn: false });
    location.replace(destination(me));
    return;
  } catch {
    // not signed in: the form is the page
  }
}

main();
