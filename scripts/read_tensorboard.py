"""Reads a TensorBoard log directory with TensorBoard's own reader and prints its scalars as
JSON: {tag: [[step, value], ...], ...}, tags sorted, events in file order. The proof behind
`resnet-tui`'s event-file writer (tui/src/tensorboard.rs, the ignored test
`tensorboard_reads_what_we_write`).

Checked with tensorboard 2.21.0 (protobuf 7.36.2, no TensorFlow: TensorBoard's own record
reader, which checks the length and data CRCs of every record).

Setup (once):
    python3 -m venv /tmp/tbenv && /tmp/tbenv/bin/pip install tensorboard
Usage:
    /tmp/tbenv/bin/python scripts/read_tensorboard.py DIR
"""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_tensorboard.py DIR")
    acc = event_accumulator.EventAccumulator(
        sys.argv[1], size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    scalars = {
        tag: [[event.step, event.value] for event in acc.Scalars(tag)]
        for tag in sorted(acc.Tags()["scalars"])
    }
    json.dump(scalars, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
