"""Name normalisation, above all model identity: known ids map to the dashboard's keys by exact match only."""

import pytest

from specnb import names
from specnb.errors import UsageError

DASHBOARD = {"dsr1": "DeepSeek R1", "dsv4": "DeepSeek V4 Pro 1.6T", "glm5": "GLM 5", "glm5.1": "GLM 5.1",
             "qwen3.5": "Qwen 3.5 397B-A17B", "kimik2.5": "Kimi K2.5", "minimaxm2.5": "MiniMax M2.5",
             "minimaxm3": "MiniMax M3", "gptoss120b": "gpt-oss 120B", "llama70b": "Llama 3.3 70B"}


def test_table_holds_the_dashboard_keys_and_labels():
    assert {m.key: m.label for m in names.known_models()} == DASHBOARD
    assert [m.key for m in names.known_models()] == list(DASHBOARD)  # the table's order is the listing order


@pytest.mark.parametrize(("name", "key"), [
    # spellings read from the bundled and raw data (API rows, CI aggregates, raw client results)
    ("dsr1", "dsr1"), ("deepseek-ai/DeepSeek-R1-0528", "dsr1"), ("deepseek-ai/DeepSeek-R1", "dsr1"),
    ("/models/DeepSeek-R1", "dsr1"), ("/models/DeepSeek-R1/", "dsr1"), ("amd/DeepSeek-R1-0528-MXFP4-Preview", "dsr1"),
    ("/mnt/lustre01/models/deepseek-r1-0528-fp4-v2", "dsr1"), ("nvidia/DeepSeek-R1-0528-FP4-V2", "dsr1"),
    ("DeepSeek-R1-0528", "dsr1"), ("DEEPSEEK-R1-0528", "dsr1"), ("DeepSeek R1", "dsr1"),
    ("openai/gpt-oss-120b", "gptoss120b"), ("/mnt/lustre01/models/gpt-oss-120b", "gptoss120b"),
    ("gptoss", "gptoss120b"),  # the older runner's infmax_model_prefix
    ("/models/models--openai--gpt-oss-120b/snapshots/b5c939de8f754692c1647ca79fbf85e8c1e70f8a/", "gptoss120b"),
    ("/models/models--MiniMaxAI--MiniMax-M2.5/snapshots/f710177d938eff80b684d42c5aa84b382612f21f/", "minimaxm2.5"),
    ("moonshotai/Kimi-K2.5", "kimik2.5"), ("kimik2.5", "kimik2.5"),
    # the seed pages' and the dashboard's other models
    ("zai-org/GLM-5-FP8", "glm5"), ("GLM 5", "glm5"), ("glm5.1", "glm5.1"), ("zai-org/GLM-5.1", "glm5.1"),
    ("Qwen/Qwen3.5-397B-A17B-FP8", "qwen3.5"), ("qwen3.5", "qwen3.5"), ("deepseek-ai/DeepSeek-V4-Pro", "dsv4"),
    ("DeepSeek V4 Pro 1.6T", "dsv4"), ("MiniMaxAI/MiniMax-M3", "minimaxm3"),
    ("meta-llama/Llama-3.3-70B-Instruct", "llama70b"), ("C:\\models\\GLM-5-FP8", "glm5"),
])
def test_known_ids_map_to_dashboard_keys(name, key):
    assert names.model_key(name) == key


@pytest.mark.parametrize(("name", "key"), [
    ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "deepseek-r1-distill-llama-70b"),
    ("Qwen/Qwen3.5-27B", "qwen3.5-27b"),
    ("openai/gpt-oss-20b", "gpt-oss-20b"),
    ("deepseek-ai/DeepSeek-V3", "deepseek-v3"),
    ("GLM-5.2", "glm-5.2"),
    ("/models/models--Qwen--Qwen3.5-27B/snapshots/abc/", "qwen3.5-27b"),
    ("Some Model", "some model"),
])
def test_other_names_stay_whole(name, key):
    """Never merged by a common prefix: a distilled or smaller variant is its own model."""
    assert names.model_key(name) == key
    assert names.model_label(key) == key


def test_user_aliases_win_and_are_exact():
    aliases = names.clean_model_aliases({"My-R1-Finetune": "DSR1", "gpt-oss-120b": "mine"})
    assert aliases == {"my-r1-finetune": "dsr1", "gpt-oss-120b": "mine"}
    assert names.model_key("/ckpt/my-r1-finetune/", aliases) == "dsr1"
    assert names.model_key("openai/gpt-oss-120b", aliases) == "mine"  # a user alias overrides the table
    assert names.model_key("my-r1-finetune-v2", aliases) == "my-r1-finetune-v2"  # exact, not a prefix
    assert names.clean_model_aliases(["a=b", "C = D"]) == {"a": "b", "c": "d"}


@pytest.mark.parametrize("bad", [["nokey"], ["=dsr1"], ["name="], {"x": ""}, {"x": "a/b"}, {"x": 3}])
def test_bad_aliases_are_usage_errors(bad):
    with pytest.raises(UsageError, match="--model-alias .*expected NAME=KEY"):
        names.clean_model_aliases(bad)


def test_same_name_from_two_owners_stays_two_models():
    """A last path component shared by two organisations' models is not enough to merge them."""
    keys = names.model_keys(["org-a/Model-X", "org-b/model-x", "/models/org-a/Model-X", "deepseek-ai/DeepSeek-R1",
                             "/mnt/DeepSeek-R1", "Solo-Model"])
    assert keys["org-a/Model-X"] == keys["/models/org-a/Model-X"] == "org-a/model-x"
    assert keys["org-b/model-x"] == "org-b/model-x"
    assert keys["deepseek-ai/DeepSeek-R1"] == keys["/mnt/DeepSeek-R1"] == "dsr1"
    assert keys["Solo-Model"] == "solo-model"
    assert names.model_keys(["org-a/m", "/models/org-a/m"]) == {"org-a/m": "m", "/models/org-a/m": "m"}
