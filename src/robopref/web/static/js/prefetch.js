// The next pairs' clips load while the current pair is judged: hidden <video preload=auto>
// elements, handed to the players when their pair comes up.

const MAX_HELD = 6;

/** Create a muted, inline <video> for `url` (loading at once unless `preload` says not). */
export function clipVideo(url, { preload = "auto" } = {}) {
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.preload = preload;
  video.disablePictureInPicture = true;
  video.setAttribute("disableremoteplayback", "");
  video.src = url;
  return video;
}

/** Holds preloading videos by clip URL. */
export class ClipPrefetcher {
  constructor({ enabled = true } = {}) {
    this.enabled = enabled;
    this.held = new Map();
    this.shelf = document.createElement("div");
    this.shelf.className = "prefetch-shelf";
    this.shelf.setAttribute("aria-hidden", "true");
    document.body.append(this.shelf);
  }

  /** Start loading `urls` (the `upcoming` of /api/next); drop the ones no longer wanted. */
  want(urls) {
    if (!this.enabled) return;
    const wanted = new Set(urls.filter(Boolean).slice(0, MAX_HELD));
    for (const [url, video] of this.held) {
      if (!wanted.has(url)) this.#release(url, video);
    }
    for (const url of wanted) {
      if (this.held.has(url)) continue;
      const video = clipVideo(url);
      this.held.set(url, video);
      this.shelf.append(video);
      video.load();
    }
  }

  /** The preloaded video for `url` (taken off the shelf), or a fresh one. */
  take(url) {
    const video = this.held.get(url);
    if (video === undefined) return clipVideo(url);
    this.held.delete(url);
    video.remove();
    return video;
  }

  #release(url, video) {
    this.held.delete(url);
    video.removeAttribute("src");
    video.load(); // frees the decoder and the buffered bytes
    video.remove();
  }
}
