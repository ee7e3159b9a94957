#!/usr/bin/env python3
"""`s2r parse`: the job facts as JSON, exit 1 when sbatch would refuse.

    test_parse_cli.py S2R
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

S2R = None


def parse(script, *args, stdin=False):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "job.sbatch")
        with open(path, "w") as f:
            f.write(script)
        argv = [S2R, "parse", *args, "-" if stdin else path]
        r = subprocess.run(argv, input=script if stdin else None,
                           capture_output=True, text=True, cwd=d)
        return r.returncode, r.stdout, r.stderr, path


class ParseTest(unittest.TestCase):
    def test_facts(self):
        rc, out, err, _ = parse(
            "#!/bin/bash\n#SBATCH -J train -N 2-4 --ntasks-per-node=4\n"
            "#SBATCH -c 8 --gres=gpu:a100:4 --mem-per-cpu=2G -t 1:30\n"
            "#SBATCH -p gpu,gpu-long -A lab-a --array=0-9:3%2\n"
            "#SBATCH -L matlab:2 --reservation=gpu-workshop\n"
            "python train.py\n")
        self.assertEqual(rc, 0, err)
        job = json.loads(out)
        self.assertTrue(job["valid"])
        want = {"job_name": "train", "nodes": 2, "nodes_max": 4,
                # slurmctld sets the tasks: 4 per node on the 2 nodes
                "ntasks": 8, "ntasks_per_node": 4, "tasks_per_node": 4,
                "cpus_per_task": 8, "cpus_per_gpu": 0, "gpus_per_node": 4,
                "gpu_type": "a100", "cpus_per_node": 32,
                "mem_per_node_mib": 65536, "time_limit_s": 120,
                "array": {"indices": [0, 3, 6, 9], "max_parallel": 2},
                "partitions": ["gpu", "gpu-long"], "account": "lab-a"}
        for k, v in want.items():
            self.assertEqual(job[k], v, k)
        dirs = {d["name"]: d["value"] for d in job["directives"]}
        self.assertEqual(dirs["licenses"], "matlab:2")
        self.assertEqual(dirs["reservation"], "gpu-workshop")

    def test_refused(self):
        rc, out, err, path = parse(
            "#!/bin/bash\n#SBATCH --mem=4G --mem-per-cpu=1G\necho\n")
        self.assertEqual(rc, 1)
        self.assertFalse(json.loads(out)["valid"])
        self.assertIn(path + ":2: error:", err)
        self.assertIn("mutually exclusive", err)

    def test_stdin_and_defaults(self):
        rc, out, err, _ = parse("#!/bin/sh\necho hi\n", stdin=True)
        self.assertEqual(rc, 0, err)
        job = json.loads(out)
        self.assertIsNone(job["job_name"])
        self.assertEqual((job["nodes"], job["tasks_per_node"],
                          job["gpus_per_node"]), (1, 1, 0))
        self.assertIsNone(job["partitions"])
        self.assertIsNone(job["mem_per_node_mib"])

    def test_usage(self):
        r = subprocess.run([S2R, "parse"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([S2R, "parse", "--help"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("s2r parse", r.stdout)
        # an unknown option: the parse usage, not every command's
        r = subprocess.run([S2R, "parse", "--bogus", "x.sbatch"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bogus", r.stderr)
        self.assertIn("usage: s2r parse", r.stderr)
        self.assertNotIn("s2r migrate", r.stderr)
        r = subprocess.run([S2R, "parse", "/nonexistent/x.sbatch"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent/x.sbatch", r.stderr)


if __name__ == "__main__":
    S2R = os.path.abspath(sys.argv.pop(1))
    unittest.main()
