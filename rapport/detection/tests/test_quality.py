"""Model-quality regression: the committed artifact on the hand-written evaluation set.

The set stands in for customer conversations the detector has never seen. A retrained
artifact that falls below these figures should not be committed.
"""

from rapport.detection import DetectionMode, detect_many
from rapport.detection.dataset import examples_evaluation
from rapport.detection.evaluate import scores_count

MINIMUM_F1 = 0.90


def test_aggressive_mode_keeps_f1_on_the_evaluation_set() -> None:
    rows = examples_evaluation()
    assert len(rows) >= 300
    detections = detect_many([row.text for row in rows], DetectionMode.AGGRESSIVE)
    scores = scores_count([d.is_request for d in detections], [row.label for row in rows])
    assert scores.f1 >= MINIMUM_F1, (
        f"F1 {scores.f1:.3f} (P {scores.precision:.3f}, R {scores.recall:.3f})"
    )


def test_conservative_mode_is_more_precise_than_aggressive() -> None:
    rows = examples_evaluation()
    labels = [row.label for row in rows]
    texts = [row.text for row in rows]
    loose = scores_count([d.is_request for d in detect_many(texts, "aggressive")], labels)
    strict = scores_count([d.is_request for d in detect_many(texts, "conservative")], labels)
    assert strict.precision >= loose.precision
    assert loose.recall >= strict.recall


def test_evaluation_set_shares_no_message_with_the_training_rows() -> None:
    from rapport.detection.dataset import CUSTOMER_TRAIN, examples_read

    trained = {row.text.strip().lower() for row in examples_read(CUSTOMER_TRAIN, source="c")}
    assert not [row.text for row in examples_evaluation() if row.text.strip().lower() in trained]
