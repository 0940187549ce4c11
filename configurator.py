"""
nanoGPT-style configuration, made strict. A script declares its settings as plain module
globals, then calls

    config = configure(globals(), sys.argv[1:])

Arguments are config files (python files that assign settings) and --key=value overrides,
applied in order. A key the script does not declare, or a value of the wrong type, is an
error that names it: a typo never silently creates a new setting. `--help` (or `-h`) prints
the script's docstring and its settings block (every setting with its default and comment)
and exits. code_version() names the code that read them (the git commit, -dirty when tracked
files differ from it), for records.
"""

import ast
import difflib
import subprocess
from pathlib import Path

# names other codebases (nanoGPT, HF Trainer) use for a setting, for the hint after a miss
ALIASES = {"learning_rate": "lr", "max_iters": "max_tokens", "max_steps": "max_tokens", "min_lr": "min_lr_frac",
           "warmup_iters": "warmup_tokens", "warmup_steps": "warmup_tokens", "lr_decay_iters": "lr_schedule",
           "gradient_accumulation_steps": "grad_accum", "eval_iters": "eval_batches", "eval_interval": "save_every",
           "log_interval": "log_every", "n_layers": "n_layer", "n_heads": "n_head", "d_model": "n_embd",
           "seq_len": "block_size", "context_length": "block_size", "model_size": "model", "size": "model",
           "output_dir": "out_dir", "out": "out_dir", "run": "run_dir", "steps": "probe_steps",
           "schedules": "schedule", "metrics": "metric", "thread": "threads", "num_threads": "threads"}


class ConfigError(SystemExit):
    pass


def suggest(key, defaults):
    """The settings a misspelt or foreign key most likely meant (close spellings, known aliases)."""
    names = list(defaults) + [a for a, k in ALIASES.items() if k in defaults]
    close = [ALIASES.get(m, m) for m in difflib.get_close_matches(key, names, n=3, cutoff=0.7)]
    close += [k for k in defaults if len(key) >= 3 and k.startswith(key[:3])]
    return list(dict.fromkeys(close))[:3]


def _check(defaults, key, value, origin):
    if key not in defaults:
        close = suggest(key, defaults)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise ConfigError(f"config: unknown setting {key!r} in {origin}{hint}")
    want = type(defaults[key])
    if want is float and type(value) is int:
        value = float(value)
    if want is int and type(value) is float and value.is_integer():
        value = int(value)  # --max_tokens=1e5
    if type(value) is not want:
        raise ConfigError(f"config: {key} must be {want.__name__}, got {value!r} ({type(value).__name__}) in {origin}")
    return value


def usage(g):
    """What --help prints: the script's docstring, then its settings block as written (the lines
    between the '# ---- settings' rule and the next rule: each setting, its default, its comment)."""
    doc = (g.get("__doc__") or "").strip()
    block, inside = [], False
    path = g.get("__file__")
    for line in (Path(path).read_text().splitlines() if path else []):
        if line.startswith("# ----"):
            if inside:
                break
            inside = "settings" in line
            continue
        if inside:
            block.append("  " + line)
    return (doc + "\n\nSettings (--name=value, or a config file of name = value lines, applied in order; a bare "
            "--flag turns a boolean on):\n" + "\n".join(block) + "\n")


def configure(g, argv):
    """Apply config files and --key=value overrides to the settings in namespace g (the
    script's globals). Returns the resolved settings as a dict. --help or -h: print usage(g)
    and exit."""
    if "_defaults" not in g:  # first call: remember the declared settings
        g["_defaults"] = {k: v for k, v in g.items()
                          if not k.startswith("_") and isinstance(v, (int, float, bool, str))}
    if "--help" in argv or "-h" in argv:
        print(usage(g), end="")
        raise SystemExit(0)
    defaults = g["_defaults"]
    g.update(defaults)  # a second call in the same process starts again from the defaults
    for arg in argv:
        if not arg.startswith("--"):
            path = Path(arg)
            if not path.exists():
                raise ConfigError(f"config: no config file {arg}")
            scope = {}
            exec(path.read_text(), {}, scope)
            for k, v in scope.items():
                if not k.startswith("_"):
                    g[k] = _check(defaults, k, v, arg)
        else:
            if "=" not in arg and isinstance(defaults.get(arg[2:]), bool):
                arg += "=True"  # a bare boolean flag switches it on
            if "=" not in arg:
                raise ConfigError(f"config: {arg} needs a value: {arg}=VALUE")
            key, val = arg[2:].split("=", 1)
            try:
                value = ast.literal_eval(val)
            except (SyntaxError, ValueError):
                value = val  # a bare string
            if key in defaults and isinstance(defaults[key], str):
                value = val
            if key in defaults and isinstance(defaults[key], bool) and val in ("true", "false"):
                value = val == "true"
            g[key] = _check(defaults, key, value, arg)
    return {k: g[k] for k in defaults}


def at_least(script, settings, bounds, hints=None):
    """Refuse, in one line naming the setting and the fix, the first of `bounds` ({name: least
    value}) that the resolved settings fall below: a batch of 0 or a negative learning rate
    otherwise ends deep in torch with a traceback."""
    for key, least in bounds.items():
        if settings[key] < least:
            hint = (hints or {}).get(key, "")
            raise ConfigError(f"{script}: {key} must be >= {least}, got {settings[key]}; fix: --{key}=<{least} or "
                              f"more>" + (f" ({hint})" if hint else ""))


def code_version():
    try:
        here = Path(__file__).resolve().parent
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True).stdout.strip()
        return (sha + ("-dirty" if dirty else "")) or "unknown"
    except OSError:
        return "unknown"
