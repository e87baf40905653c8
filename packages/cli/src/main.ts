console.log("strata: not yet");
