"""What routing does, one module per area: lifecycle, steps, commitments, escalation (the case);
sla and timers (the clocks); organisation and assignment (who works it). Each use case takes a
unit of work (repositories + emit) and the time, and raises only domain errors. Nothing is
re-exported here, so importing one module never drags in the others."""
