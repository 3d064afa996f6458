// Live parts of a page: an element with data-stream is replaced by each fragment the server sends.
// The fragments are rendered (and escaped) by the server; nothing here builds markup.
for (const part of document.querySelectorAll("[data-stream]")) {
  const source = new EventSource(part.dataset.stream);
  source.addEventListener(part.dataset.event, (message) => {
    part.innerHTML = message.data;
    part.dataset.updated = new Date().toISOString();
  });
  source.onerror = () => part.classList.add("stale");
  source.onopen = () => part.classList.remove("stale");
}
