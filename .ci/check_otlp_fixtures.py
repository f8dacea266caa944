"""The OTLP/JSON fixtures are real OTLP: every line of the file-exporter
fixture and the proto's own example parse as ExportTraceServiceRequest with
the official protobuf definitions (opentelemetry-proto, ignoring no unknown
field), and the GenAI usage attributes the readers take are where costgate
reads them."""
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

spans_with_usage = 0
for path in ["fixtures/logs/otlp-genai.jsonl"]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            req = json_format.Parse(line, ExportTraceServiceRequest())
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        keys = {a.key for a in span.attributes}
                        if "gen_ai.usage.input_tokens" in keys:
                            spans_with_usage += 1
            print(f"{path}:{n}: a valid ExportTraceServiceRequest")
with open("fixtures/logs/otlp-proto-example-trace.json", encoding="utf-8") as f:
    json_format.Parse(f.read(), ExportTraceServiceRequest())
    print("fixtures/logs/otlp-proto-example-trace.json: a valid ExportTraceServiceRequest")
if spans_with_usage == 0:
    sys.exit("no span carries gen_ai.usage.input_tokens")
print(f"{spans_with_usage} GenAI spans with usage")
