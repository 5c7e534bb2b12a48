/**
 * Contact tracing (issue 4, R-CT-1 … R-CT-8): occupancy and hot zones (`occupancy/`), journeys
 * and the optional people directory (`journeys/`, `people/`), proximity tracing and case reports
 * (`proximity/`), notices to exposed people (`notify/`). Public API of the module.
 */
export {};
