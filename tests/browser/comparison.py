"""Driving the comparison page (/annotate) the way an annotator does, by mouse or keyboard."""

from __future__ import annotations

from typing import Any

Assignment = dict[str, Any] | None


def is_next(response: Any) -> bool:
    """True for the reply of GET /api/next."""
    return response.url.endswith("/api/next") and response.request.method == "GET"


class ComparisonPage:
    """The comparison page of one signed-in browser page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.shown = 0
        self.last: dict[str, Any] = {}

    def open(self, url: str = "/annotate") -> Assignment:
        """Go to `url` (/annotate, or a page that leads there, like a sign-in link); returns
        the assignment /annotate shows (None when the queue is empty).

        The reply waited for is the first /api/next after this navigation, so call it on a
        page that is not already loading /annotate (a discarded reply has no body).
        """
        with self.page.expect_response(is_next) as reply:
            self.page.goto(url)
        self.page.wait_for_url("**/annotate")
        self.shown = 0
        return self._assignment(reply.value)

    def _assignment(self, response: Any) -> Assignment:
        self.last = response.json()
        item: Assignment = self.last.get("assignment")
        if item is not None:
            self.shown += 1
        return item

    def wait_playable(self) -> None:
        """Wait for the current pair's `playable` mark (both clips can play)."""
        self.page.wait_for_function(
            "n => performance.getEntriesByName('playable').length >= n", arg=self.shown)

    def answer_by_mouse(self, choice: str, confidence: int, *, reason: str | None = None,
                        rubric: dict[str, str] | None = None) -> Assignment:
        """Click a side and a confidence (rubric, reason), submit; returns the next pair."""
        self.wait_playable()
        page = self.page
        page.click(f".choice[data-choice={choice}]")
        page.check(f"input[name=confidence][value='{confidence}']")
        for key, value in (rubric or {}).items():
            page.check(f"input[name=rubric-{key}][value={value}]")
        if reason is not None:
            page.fill("#reason", reason)
        with page.expect_response(is_next) as reply:
            page.click("#submit")
        return self._assignment(reply.value)

    def answer_by_keys(self, choice: str, confidence: int) -> Assignment:
        """L/R/E, a digit, Enter; returns the next pair."""
        self.wait_playable()
        keyboard = self.page.keyboard
        keyboard.press({"left": "l", "right": "r", "equal": "e"}[choice])
        keyboard.press(str(confidence))
        with self.page.expect_response(is_next) as reply:
            keyboard.press("Enter")
        return self._assignment(reply.value)

    def times(self) -> dict[str, float]:
        """currentTime and duration of both players and the page's speed, in one read."""
        times: dict[str, float] = self.page.evaluate("""() => {
            const [a, b] = [...document.querySelectorAll('#left-slot video, #right-slot video')];
            return {left: a.currentTime, right: b.currentTime, left_duration: a.duration,
                    right_duration: b.duration, left_rate: a.playbackRate,
                    right_rate: b.playbackRate, paused: a.paused && b.paused};
        }""")
        return times
