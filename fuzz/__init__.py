"""Coverage-guided fuzzing of what reads untrusted bytes, with atheris (libFuzzer).

``targets.py`` holds the targets; ``python -m fuzz TARGET`` runs one under atheris (``make
fuzz`` runs each for at least a million executions); ``fuzz/corpus/TARGET/`` is each
target's corpus, kept in the repository and replayed by ``make test``
(``tests/fuzz/test_corpus.py``), so an input that once crashed stays a test.
"""
