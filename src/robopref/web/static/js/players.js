// Two review clips played as one: play, pause, seek, replay, frame step and speed act on
// both, and a leader/follower loop keeps the follower within a frame of the leader.

export const FPS = 15;
export const SPEEDS = [0.25, 0.5, 1];
const HARD_SEEK_S = 0.1; // drift beyond this: jump the follower to the leader
const SOFT_S = 0.012; // drift below this: play the follower at the common rate
const CATCH_UP_S = 0.5; // a soft correction removes the drift over about this long
const EPS_S = 1e-3; // seek a hair past a frame's start so that frame is the one shown

function isReady(video) {
  return video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA;
}

/**
 * Synchronised players over two <video> elements.
 *
 * Events: `playable` (both clips can play), `watched` (both were played through to their
 * end at least once), `state` (playing/paused, time or speed changed), `error`.
 */
export class SyncedPlayers extends EventTarget {
  constructor() {
    super();
    this.videos = [];
    this.rate = 1;
    this.playing = false;
    this.watched = new Set();
    this.playableFired = false;
    this.listeners = [];
    this.frameHandle = null;
  }

  /** Take over `videos` (two elements, already loading their clips); forget the old ones. */
  attach(videos) {
    this.detach();
    this.videos = videos;
    this.playing = false;
    this.watched = new Set();
    this.playableFired = false;
    videos.forEach((video, i) => {
      video.muted = true;
      video.playbackRate = this.rate;
      this.#on(video, "canplay", () => this.#checkPlayable());
      this.#on(video, "loadeddata", () => this.#checkPlayable());
      this.#on(video, "ended", () => this.#ended(i));
      this.#on(video, "error", () => this.dispatchEvent(new CustomEvent("error", { detail: { side: i } })));
      this.#on(video, "seeked", () => this.#state());
    });
    this.#checkPlayable();
  }

  /** Stop and release the current elements' listeners. */
  detach() {
    this.#stopLoop();
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
    this.listeners = [];
    for (const video of this.videos) video.pause();
    this.videos = [];
    this.playing = false;
  }

  /** The clip that runs longest sets the clock; the other follows it. */
  get leader() {
    const [a, b] = this.videos;
    return (b && (b.duration || 0) > (a.duration || 0)) ? b : a;
  }

  get follower() {
    return this.videos.find((v) => v !== this.leader);
  }

  /** Longest clip length in seconds (0 before metadata). */
  get duration() {
    return Math.max(0, ...this.videos.map((v) => (Number.isFinite(v.duration) ? v.duration : 0)));
  }

  get currentTime() {
    return this.leader ? this.leader.currentTime : 0;
  }

  get isPlayable() {
    return this.videos.length === 2 && this.videos.every(isReady);
  }

  /** Both from the leader's time (from the start again when the leader has ended). */
  async play() {
    if (this.videos.length !== 2) return;
    if (this.leader.ended || this.currentTime >= this.duration - EPS_S) this.#seekAll(0);
    else this.#align();
    this.playing = true;
    for (const v of this.videos) v.playbackRate = this.rate;
    const started = this.videos.map((v) => (v.ended ? Promise.resolve() : v.play()));
    this.#startLoop();
    this.#state();
    try {
      await Promise.all(started);
    } catch {
      // play() refused (element replaced or paused meanwhile): the state stays consistent
    }
  }

  pause() {
    this.playing = false;
    this.#stopLoop();
    for (const v of this.videos) v.pause();
    this.#align();
    this.#state();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  /** Both to `t` seconds (each clamped to its own length); playing continues. */
  seek(t) {
    this.#seekAll(Math.max(0, Math.min(t, this.duration)));
    this.#state();
  }

  /** Seek by `delta` seconds. */
  seekBy(delta) {
    this.seek(this.currentTime + delta);
  }

  /** Pause and move `n` frames (at FPS) forward or back. */
  step(n) {
    if (this.playing) this.pause();
    const frame = Math.floor(this.currentTime * FPS + 0.01);
    const last = Math.max(0, Math.ceil(this.duration * FPS) - 1);
    const target = Math.max(0, Math.min(frame + n, last));
    this.seek(target / FPS + EPS_S);
  }

  /** From the start, playing. */
  replay() {
    this.#seekAll(0);
    this.play();
  }

  setRate(rate) {
    this.rate = rate;
    for (const v of this.videos) v.playbackRate = rate;
    this.#align();
    this.#state();
  }

  #seekAll(t) {
    for (const v of this.videos) {
      const end = Number.isFinite(v.duration) ? v.duration : t;
      v.currentTime = Math.min(t, end);
    }
  }

  /** Put the follower exactly on the leader's time (when it still has frames there). */
  #align() {
    const follower = this.follower;
    if (!follower || !Number.isFinite(follower.duration)) return;
    const t = this.leader.currentTime;
    if (t <= follower.duration && Math.abs(follower.currentTime - t) > EPS_S) {
      follower.currentTime = t;
    }
    follower.playbackRate = this.rate;
  }

  /** One correction step: soft (rate nudge) for small drift, a jump for large drift. */
  #correct() {
    const leader = this.leader;
    const follower = this.follower;
    if (!follower || leader.seeking || follower.seeking) return;
    const t = leader.currentTime;
    if (!Number.isFinite(follower.duration) || t >= follower.duration || follower.ended) {
      follower.playbackRate = this.rate;
      return;
    }
    const drift = follower.currentTime - t;
    if (Math.abs(drift) > HARD_SEEK_S || follower.paused) {
      follower.currentTime = t;
      follower.playbackRate = this.rate;
      if (follower.paused && this.playing && !leader.paused) follower.play().catch(() => {});
    } else if (Math.abs(drift) > SOFT_S) {
      const factor = Math.max(0.5, Math.min(1.5, 1 - drift / CATCH_UP_S));
      follower.playbackRate = this.rate * factor;
    } else {
      follower.playbackRate = this.rate;
    }
  }

  #startLoop() {
    this.#stopLoop();
    const leader = this.leader;
    const useFrames = typeof leader.requestVideoFrameCallback === "function";
    const tick = () => {
      if (!this.playing) return;
      this.#correct();
      this.dispatchEvent(new CustomEvent("tick"));
      this.frameHandle = useFrames && !leader.paused
        ? { video: leader, id: leader.requestVideoFrameCallback(tick) }
        : { id: requestAnimationFrame(tick) };
    };
    tick();
  }

  #stopLoop() {
    const handle = this.frameHandle;
    if (!handle) return;
    if (handle.video) handle.video.cancelVideoFrameCallback(handle.id);
    else cancelAnimationFrame(handle.id);
    this.frameHandle = null;
  }

  #ended(i) {
    if (this.playing) this.watched.add(i);
    if (this.watched.size === 2) this.dispatchEvent(new CustomEvent("watched"));
    if (this.videos.every((v) => v.ended || v.currentTime >= v.duration - EPS_S)) {
      this.playing = false;
      this.#stopLoop();
    }
    this.#state();
  }

  #checkPlayable() {
    if (this.playableFired || !this.isPlayable) return;
    this.playableFired = true;
    this.dispatchEvent(new CustomEvent("playable"));
  }

  #state() {
    this.dispatchEvent(new CustomEvent("state"));
  }

  #on(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push([target, type, fn]);
  }
}

/** True when both clips of `players` were watched to the end. */
export function bothWatched(players) {
  return players.watched.size === 2;
}

/** "1.3 / 4.0 s" for the transport. */
export function timeText(players) {
  return `${players.currentTime.toFixed(1)} / ${players.duration.toFixed(1)} s`;
}
