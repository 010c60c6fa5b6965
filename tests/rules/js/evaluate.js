// Evaluates compiled JSON Logic with json-logic-js for the agreement tests.
// stdin: {"jobs": [{"logic": <compile_jsonlogic output>, "data": [<jsonlogic_data>, ...]}]}
// stdout: {"results": [[{"profiles": {id: [eligible, suppressed, member, score]}, "winner": id}, ...]]}
"use strict";
const jsonLogic = require("json-logic-js");

// The documented custom operation (docs/rules.md), exactly as a user registers it.
jsonLogic.add_operation("half_life_decay", (t, now, w) =>
  t === null ? 0 : now - t <= 0 ? 1 : Math.pow(0.5, (now - t) / w),
);

function evaluate(job) {
  return job.data.map((data) => {
    const profiles = {};
    for (const [id, compiled] of Object.entries(job.logic.profiles)) {
      profiles[id] = [
        jsonLogic.truthy(jsonLogic.apply(compiled.eligibility, data)),
        jsonLogic.truthy(jsonLogic.apply(compiled.suppression, data)),
        jsonLogic.truthy(jsonLogic.apply(compiled.member, data)),
        compiled.score === null ? null : jsonLogic.apply(compiled.score, data),
      ];
    }
    const winner = job.logic.winner === null ? null : jsonLogic.apply(job.logic.winner, data);
    return { profiles, winner };
  });
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  process.stdout.write(JSON.stringify({ results: request.jobs.map(evaluate) }));
});
