// A post's own page (rendered when the post is written, functions/pages) carries its text as
// plain text; this shows it with the blog's markup, the same rendering the list's posts get.
import { renderBody } from "./markup.js";

const body = document.getElementById("post-body");
if (body && body.hasAttribute("data-markup")) {
  body.replaceChildren(renderBody(body.textContent));
  body.removeAttribute("data-markup");
}
