"""Every PYJLCHAR_* variable is checked like a setting: a value that cannot work is one sentence
naming the variable and its fix, with a non-zero exit and no trace."""
import pytest

from test_cli import assert_clean_failure, pyjlchar


@pytest.mark.parametrize("variable, value, phrase", [
    ("PYJLCHAR_SYSIMAGE", "sometimes", "PYJLCHAR_SYSIMAGE=sometimes is not one of auto, off"),
    ("PYJLCHAR_JULIA", "python", "PYJLCHAR_JULIA=python is not one of auto, juliacall, embedded"),
    ("PYJLCHAR_EVENT_LOG", "/no/such/folder/events.jsonl", "PYJLCHAR_EVENT_LOG='/no/such/folder/events.jsonl' cannot be written"),
])
def test_a_variable_that_cannot_work_is_one_sentence(variable, value, phrase):
    out = pyjlchar("visualize", "--layers", "1", env={variable: value})
    assert_clean_failure(out, phrase, "unset it")


def test_a_cache_that_is_a_file_is_one_sentence(tmp_path):
    a_file = tmp_path / "cache"
    a_file.write_text("not a folder")
    out = pyjlchar("visualize", env={"PYJLCHAR_CACHE": str(a_file)})
    assert_clean_failure(out, f"PYJLCHAR_CACHE='{a_file}' is not a folder")


def test_an_ssh_command_that_is_not_a_command_line_is_one_sentence(tmp_path):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("127.0.0.1\n")
    out = pyjlchar("launch", "--hosts", hosts, "-n", "1", "-s", "1", "--", "train", "--kvstore", "dist_sync",
                   env={"PYJLCHAR_SSH": 'ssh -o "unclosed'})
    assert_clean_failure(out, "PYJLCHAR_SSH='ssh -o \"unclosed' is not a command line", "unset it")
