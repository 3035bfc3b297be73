"""What a run wrote to TensorBoard, read back."""

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def read_events(log_dir):
    events = EventAccumulator(log_dir, size_guidance={"tensors": 0})
    events.Reload()
    return events
