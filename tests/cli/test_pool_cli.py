from typer.testing import CliRunner

from robopref.cli import app

runner = CliRunner()


def test_pool_show_prints_tables_and_summary_line(tiny_pool):
    pool = tiny_pool(n=8)
    result = runner.invoke(app, ["pool", "show", str(pool.root)])
    assert result.exit_code == 0, result.output
    assert "by tier" in result.output and "quartile boundaries" in result.output
    assert result.output.strip().splitlines()[-1].startswith(f"pool {pool.root}: 8 trajectories")


def test_pool_show_on_a_non_pool_exits_2_naming_the_file(tmp_path):
    result = runner.invoke(app, ["pool", "show", str(tmp_path)])
    assert result.exit_code == 2
    assert "manifest.parquet" in result.output


def test_bad_config_value_exits_2_naming_the_field(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("experts: -1\n")
    result = runner.invoke(app, ["pool", "generate", str(tmp_path / "p"), "--config", str(config)])
    assert result.exit_code == 2
    assert "experts" in result.output


def test_unknown_config_field_exits_2(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("nonsense: 3\n")
    result = runner.invoke(app, ["pool", "generate", str(tmp_path / "p"), "--config", str(config)])
    assert result.exit_code == 2
    assert "nonsense" in result.output


def test_every_verb_has_help_with_an_example():
    verbs = ["pool show", "pool generate", "pool ingest", "pool export", "pool embed", "render",
             "pairs", "annotate simulate", "qa", "campaign simulate", "train", "validate",
             "release", "demo"]  # fmt: skip
    for args in (v.split() for v in verbs):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, args


def test_nested_config_field_error_names_the_dotted_field(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("pool:\n  frame_crf: 99\n")
    result = runner.invoke(app, ["pool", "generate", str(tmp_path / "p"), "--config", str(config)])
    assert result.exit_code == 2
    assert "frame_crf" in result.output

    config.write_text("pool:\n  rubric:\n    bogus: 1\n")
    result = runner.invoke(app, ["pool", "generate", str(tmp_path / "p"), "--config", str(config)])
    assert result.exit_code == 2
    assert "pool.rubric.bogus" in result.output
