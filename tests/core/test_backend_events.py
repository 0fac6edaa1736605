"""Backend events: a broken listener or hook never stops the others, hooks run before "finished"."""

from pixtools_desktop.core.backend import JobEvents
from pixtools_desktop.core.jobs import Job, OutputOptions


def test_hooks_then_listeners_and_failures_are_contained():
    events = JobEvents()
    seen = []

    def broken(*args):
        raise RuntimeError("boom")

    events.add_listener(broken)
    events.add_listener(lambda e, jid, p: seen.append(("listener", e, jid)))
    events.add_finish_hook(broken)
    events.add_finish_hook(lambda job: seen.append(("hook", job.id)))
    job = Job(id="j1", input_path="/x.jpg", operations=["webp"], params={}, options=OutputOptions())
    events.emit("progress", "j1", 0.5)
    events.finished(job)
    assert seen == [("listener", "progress", "j1"), ("hook", "j1"), ("listener", "finished", "j1")]
