#!/usr/bin/env python3
"""Trains a byte-level BPE tokenizer with Spark doing the counting.

Map: every partition of the text is piped through `tokenkit count-words --lines -o - -`
(rdd.pipe). Each partition's output is one word-count file; the driver fetches them one
partition at a time, sums them with `tokenkit merge-counts`, and trains with
`tokenkit train bpe --from-counts`. Each line is a document (`--lines`), so the counts, and
therefore the merges, do not depend on where Spark cuts the text: the result is byte for byte
the tokenizer of `tokenkit train bpe --lines` on the same files.

Local run (installs PySpark into .venv-spark and a Java runtime from Debian when missing):
  Scripts/spark_train_bpe.py --tokenkit .build/release/tokenkit --master 'local[4]' \\
      --partitions 4 --vocab-size 8000 -o tokenizer.json corpus.txt

On a cluster, tokenkit must be at the --tokenkit path on every worker:
  spark-submit --master yarn Scripts/spark_train_bpe.py --tokenkit /opt/tokenkit/bin/tokenkit \\
      --partitions 400 --vocab-size 32000 -o tokenizer.json hdfs:///corpus/*.txt

Options after `--` go to both count-words and train bpe (e.g. `-- --pre-tokenizer cl100k`).
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-spark")
PYSPARK = "pyspark==3.5.7"


def ensure_runtime():
    """Imports pyspark, installing it (in a venv) and a Java runtime first when missing."""
    if shutil.which("java") is None:
        # Scripts/setup installs Debian packages that are missing (and nothing when present).
        subprocess.run([os.path.join(ROOT, "Scripts", "setup"), "default-jre-headless"], check=True)
    try:
        import pyspark  # noqa: F401
        return
    except ImportError:
        pass
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit("spark_train_bpe: pyspark is still missing after installing it into " + VENV)
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PYSPARK], check=True)
    os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])


def run(cmd):
    subprocess.run(cmd, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenkit", required=True, help="tokenkit binary (the same path on every worker)")
    parser.add_argument("--master", help="Spark master (default: spark-submit's, else local[*])")
    parser.add_argument("--partitions", type=int, default=4, help="minimum number of partitions of the text")
    parser.add_argument("--vocab-size", required=True)
    parser.add_argument("-o", "--output", required=True, help="tokenizer.json to write")
    parser.add_argument("--counts", help="also keep the summed word counts here")
    parser.add_argument("inputs", nargs="+", help="text files (any path Spark reads: local, hdfs://, s3a:// …)")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    extra = argv[cut + 1:]

    ensure_runtime()
    from pyspark import SparkConf, SparkContext

    tokenkit = os.path.abspath(args.tokenkit) if os.path.exists(args.tokenkit) else args.tokenkit
    conf = SparkConf().setAppName("tokenkit train bpe")
    if args.master:
        conf.setMaster(args.master)
    elif not conf.contains("spark.master"):
        conf.setMaster("local[*]")
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    try:
        lines = sc.textFile(",".join(args.inputs), minPartitions=args.partitions)
        # One word-count file per partition; --threads 1 since Spark runs a task per core.
        mapper = [tokenkit, "count-words", "--lines", "--quiet", "--threads", "1", "-o", "-"] + extra + ["-"]
        shards = lines.pipe(" ".join(shlex.quote(a) for a in mapper)).glom()
        with tempfile.TemporaryDirectory(prefix="tokenkit-spark-") as tmp:
            paths = []
            # toLocalIterator fetches one partition at a time, so the driver holds one shard.
            for i, shard in enumerate(shards.toLocalIterator()):
                path = os.path.join(tmp, "part-%05d.counts" % i)
                with open(path, "w", encoding="utf-8") as f:
                    f.writelines(line + "\n" for line in shard)
                paths.append(path)
            print("spark_train_bpe: %d partitions counted" % len(paths), file=sys.stderr)
            total = args.counts or os.path.join(tmp, "all.counts")
            run([tokenkit, "merge-counts", "-o", total] + paths)
            run([tokenkit, "train", "bpe", "--quiet", "--vocab-size", str(args.vocab_size), "-o", args.output]
                + extra + ["--from-counts", total])
    finally:
        sc.stop()


if __name__ == "__main__":
    main()
