"""AI in steps: schema-validated model output, an invention-analysis pipeline, and image
description with a human review."""
