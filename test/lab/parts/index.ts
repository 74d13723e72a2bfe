import { LabPart } from '../lab';
import { baseImagePart, dockerPart } from './docker';
import { localRegistryPart } from './local-registry';
import { postgresPart } from './postgres';
import { registryPart } from './registry';
import { temporalPart } from './temporal';
import { vmImagePart } from './vm-image';

/** In dependency order. */
export const allParts: LabPart[] = [dockerPart, baseImagePart, registryPart, localRegistryPart, postgresPart, temporalPart, vmImagePart];
