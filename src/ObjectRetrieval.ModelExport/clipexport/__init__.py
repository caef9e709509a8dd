"""Export CLIP checkpoints (open_clip or Hugging Face transformers) into an
ObjectRetrieval model package: image.onnx, text.onnx, vocab.json, merges.txt and
model.json.

The modules are split by concern so that the parts without heavy dependencies
(tokenizer tables, package writing) can be imported and tested without PyTorch:

- ``bpe``      CLIP byte-level BPE tables, conversion to the Hugging Face layout,
               and a small reference tokenizer that mirrors the C# side.
- ``package``  prompt templates, model.json construction and validation.
- ``sources``  loading a checkpoint (or a seeded random model) behind one adapter.
- ``towers``   the exported wrapper modules, including the dense heads
               (value, ClearCLIP, SCLIP, NACLIP).
- ``checks``   ONNX export, contract inspection and numerical verification.
"""

FORMAT_VERSION = 1
EXPORTER_VERSION = "1.1"
