/**
 * The location engine: pure functions and small stateful solvers that turn readings into
 * floor positions, with no database and no I/O. Geometry and zone lookup, the path-loss model
 * and its calibration, RSSI multilateration, per-device smoothing, association and vendor
 * fixes, fingerprinting and its evaluation. `location/` services wire these to storage.
 */
export {
  type Point,
  type Bounds,
  type Polygon,
  polygonFromPoints,
  pointInRing,
  pointInPolygon,
  ringSignedArea,
  polygonArea,
  polygonCentroid,
  polygonBounds,
  clampToBounds,
} from './geometry.ts';
export { type ZoneShape, type ZoneIndexOptions, ZoneIndex } from './zones.ts';
export {
  type PathLossModel,
  type PathLossSample,
  type PathLossFit,
  type PathLossFitOptions,
  DEFAULT_BLE_MODEL,
  rssiAtDistance,
  distanceFromRssi,
  rangeRelativeSigma,
  fitPathLoss,
} from './pathloss.ts';
export { type FixMethod, type PositionFix, type PlacedAccessPoint, emptyFix, associationFix, vendorFix } from './fix.ts';
export { type RssiSolverOptions, RssiPositionSolver } from './trilateration.ts';
export { type SmootherOptions, DeviceSmoother } from './smoothing.ts';
export {
  type RssRepresentation,
  type FingerprintDistance,
  type Fingerprint,
  type RadioMapOptions,
  type KnnOptions,
  type FingerprintEstimate,
  RadioMap,
} from './fingerprint.ts';
export {
  type FingerprintReport,
  type CrossValidationOptions,
  evaluateFingerprinting,
  holdOutSplit,
  crossValidateFingerprinting,
} from './evaluate.ts';
export {
  type UjiFingerprint,
  type BeaconFingerprint,
  UJI_MERCATOR_TO_GROUND,
  parseUjiIndoorLoc,
  parseIBeaconLabeled,
  beaconCellToGrid,
} from './datasets.ts';
export {
  type SyntheticFloorOptions,
  type SyntheticReadingSet,
  type SyntheticFloor,
  simulateFloor,
} from './synthetic.ts';
export { seededRandom, seededNormal, shuffledIndices } from '../../kernel/prng.ts';
