"""Profiles: bundled set, YAML loading, user locations, one-line validation errors."""

from __future__ import annotations

import pytest

from judgebench.errors import ConfigError
from judgebench.sim.domains import DOMAINS
from judgebench.sim.profiles import FAULTS, list_profiles, load_profile

BUNDLED = ["coder", "generalist", "judge", "large", "noisy-judge", "small", "writer"]


def test_bundled_profiles_load_and_differ():
    names = list_profiles()
    for name in BUNDLED:
        assert name in names
        profile = load_profile(f"sim/{name}")
        assert profile.name == name
        assert profile.model == f"sim/{name}"
        assert set(profile.skills.model_dump()) == set(DOMAINS)
    coder, writer = load_profile("sim/coder"), load_profile("sim/writer")
    assert coder.skill_for("coding") > writer.skill_for("coding") + 0.4
    assert writer.skill_for("writing") > coder.skill_for("writing") + 0.4
    assert coder.skill_for("mathematics") > writer.skill_for("mathematics")
    assert load_profile("sim/large").prices.output > 10 * load_profile("sim/small").prices.output
    judge, noisy = load_profile("sim/judge"), load_profile("sim/noisy-judge")
    assert judge.judging > noisy.judging + 0.5
    malformed = lambda p: sum(getattr(p.shapes, f) for f in FAULTS)  # noqa: E731
    assert malformed(noisy) > 10 * malformed(judge)


def test_skill_for_accepts_domains_paths_and_text():
    coder = load_profile("sim/coder")
    assert coder.skill_for("coding/programming-languages/python") == coder.skills.coding
    assert coder.skill_for("judging") == coder.judging
    assert coder.skill_for("Write a Python function that parses JSON") == coder.skills.coding


def test_cost_uses_prices_per_million_tokens():
    large = load_profile("sim/large")
    assert large.cost(1_000_000, 0) == pytest.approx(large.prices.input)
    assert large.cost(1000, 2000) == pytest.approx((1000 * 5.0 + 2000 * 15.0) / 1e6)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("skills: {coding: 1.5}\n", "skills.coding"),
        ("skils: {coding: 0.5}\n", "skils"),
        ("verbosity: -1\n", "verbosity"),
        ("shapes: {refusal: 0.6, hedge: 0.6}\n", "sum"),
        ("prices: {input: cheap}\n", "prices.input"),
        ("- just a list\n", "mapping"),
        ("skills: {coding: [1\n", "not valid YAML"),
    ],
)
def test_bad_profile_is_a_one_line_error_naming_file_and_field(
    tmp_path, monkeypatch, yaml_text, expected
):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml_text)
    monkeypatch.setenv("JUDGEBENCH_SIM_PROFILES", str(tmp_path))
    with pytest.raises(ConfigError) as info:
        load_profile("sim/broken")
    message = str(info.value)
    assert "\n" not in message
    assert "broken.yaml" in message
    assert expected in message


def test_user_profiles_from_env_dir_file_and_path(tmp_path, monkeypatch):
    user_dir = tmp_path / "profiles"
    user_dir.mkdir()
    (user_dir / "mine.yaml").write_text("skills: {coding: 0.1}\nprices: {input: 1, output: 2}\n")
    (user_dir / "coder.yaml").write_text("description: my override\n")
    single = tmp_path / "solo.yml"
    single.write_text("judging: 0.99\n")
    monkeypatch.setenv("JUDGEBENCH_SIM_PROFILES", f"{user_dir}:{single}")
    assert load_profile("sim/mine").skills.coding == 0.1
    assert load_profile("sim/mine").name == "mine"
    assert load_profile("sim/coder").description == "my override"  # user profiles win
    assert load_profile("sim/solo").judging == 0.99
    assert "mine" in list_profiles() and "solo" in list_profiles()
    assert load_profile(f"sim/{single}").judging == 0.99  # a path works directly


def test_profile_reloads_when_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "live.yaml"
    path.write_text("judging: 0.3\n")
    monkeypatch.setenv("JUDGEBENCH_SIM_PROFILES", str(tmp_path))
    assert load_profile("sim/live").judging == 0.3
    path.write_text("judging: 0.7\n")
    import os

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_profile("sim/live").judging == 0.7


def test_unknown_profile_lists_available():
    with pytest.raises(ConfigError) as info:
        load_profile("sim/nope")
    assert "sim/nope" in str(info.value) and "sim/generalist" in str(info.value)
    with pytest.raises(ConfigError):
        load_profile("sim/../etc")


def test_name_must_match_file_and_env_locations_must_exist(tmp_path, monkeypatch):
    (tmp_path / "alpha.yaml").write_text("name: beta\n")
    monkeypatch.setenv("JUDGEBENCH_SIM_PROFILES", str(tmp_path))
    with pytest.raises(ConfigError, match=r"alpha\.yaml: name: 'beta' differs from the file name"):
        load_profile("sim/alpha")
    monkeypatch.setenv("JUDGEBENCH_SIM_PROFILES", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="JUDGEBENCH_SIM_PROFILES: .*missing does not exist"):
        load_profile("sim/generalist")
