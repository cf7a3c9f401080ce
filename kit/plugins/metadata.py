"""nbgrader's check of the cells' metadata, with its JSON schema compiled once.

nbgrader checks every cell's metadata against its schema twice in each autograde
(``CheckCellMetadata``, after the submission is cleaned and after it is graded) with
``jsonschema.validate``, which checks the schema itself against JSON Schema's
meta-schema each time it is called: a twentieth of a second of every notebook's
grading. The check here accepts and rejects the same cells, against the same
schema, compiled once per process.
"""

import functools
import json
import traceback

import jsonschema
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import checkcellmetadata


@functools.cache
def _compiled(schema_text):
    schema = json.loads(schema_text)
    return jsonschema.validators.validator_for(schema)(schema)


class _CompiledSchema(BaseMetadataValidator):
    """The schema check of nbgrader's base validator, the schema compiled once."""

    def __init__(self):
        super().__init__()
        self._check = _compiled(json.dumps(self.schema, sort_keys=True))

    def validate_cell(self, cell):
        meta = cell.metadata.get("nbgrader")
        if meta is None or meta.get("schema_version", 0) != self.schema_version:
            return super().validate_cell(cell)   # nbgrader's own verdict and error
        self._check.validate(meta)
        return None


class Validator(MetadataValidator, _CompiledSchema):
    """nbgrader's validator of cell metadata: its own checks (grade ids, points,
    cell types), which call the schema check of :class:`_CompiledSchema` where
    they call their base's."""


class CheckCellMetadata(checkcellmetadata.CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata`` with :class:`Validator`."""

    def preprocess(self, nb, resources):
        try:
            Validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg) from None
        return nb, resources
