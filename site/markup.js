// Post bodies are plain text with a small markup subset, rendered as DOM nodes (never innerHTML):
//   a blank line starts a new paragraph; a line starting with "## " is a heading;
//   **bold**, *italic*, `code` and [text](https://link) inside a paragraph.
// Anything else is shown as the text it is, so a post can never inject markup or script.
"use strict";

const INLINE = /\*\*([^*]+)\*\*|\*([^*]+)\*|`([^`]+)`|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;

function inline(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const [, bold, italic, code, label, href] = match;
    let node;
    if (bold !== undefined) {
      node = document.createElement("strong");
      node.textContent = bold;
    } else if (italic !== undefined) {
      node = document.createElement("em");
      node.textContent = italic;
    } else if (code !== undefined) {
      node = document.createElement("code");
      node.textContent = code;
    } else {
      node = document.createElement("a");
      node.textContent = label;
      node.href = href;
      node.rel = "noopener noreferrer nofollow";
    }
    nodes.push(node);
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

export function renderBody(text) {
  const fragment = document.createDocumentFragment();
  for (const block of String(text).replace(/\r\n?/g, "\n").split(/\n{2,}/)) {
    const trimmed = block.trim();
    if (!trimmed) continue;
    let lines = trimmed.split("\n");
    if (lines[0].startsWith("## ")) {
      // A heading is its own line; what follows it in the block is a paragraph.
      const heading = document.createElement("h3");
      heading.append(...inline(lines[0].slice(3)));
      fragment.append(heading);
      lines = lines.slice(1);
      if (!lines.length) continue;
    }
    const paragraph = document.createElement("p");
    lines.forEach((line, index) => {
      if (index) paragraph.append(document.createElement("br"));
      paragraph.append(...inline(line));
    });
    fragment.append(paragraph);
  }
  return fragment;
}

// The first paragraph without markup, cut at a word boundary: the excerpt of the post list.
export function excerpt(text, limit = 180) {
  const first = String(text).trim().split(/\n{2,}/)[0].replace(/^## /, "").replace(INLINE, (m, b, i, c, l) => b || i || c || l || m);
  if (first.length <= limit) return first;
  const cut = first.slice(0, limit);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), limit - 20))}…`;
}
