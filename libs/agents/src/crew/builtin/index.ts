import { EngineError } from '../../errors';
import type { CrewDefinition } from '../crew.schema';
import { parseCrew } from '../parse-crew';
import { EXTRACT_CREW } from './extract.crew';
import { REVIEW_CREW } from './review.crew';
import { REWRITE_CREW } from './rewrite.crew';
import { SUMMARIZE_CREW } from './summarize.crew';
import { TRANSLATE_CREW } from './translate.crew';

/** The crews shipped with the engine, as YAML (kept in .ts files so the build ships them without a copy step). */
const BUILTIN_CREWS = {
  summarize: SUMMARIZE_CREW,
  translate: TRANSLATE_CREW,
  extract: EXTRACT_CREW,
  rewrite: REWRITE_CREW,
  review: REVIEW_CREW,
} as const;

export type BuiltinCrewName = keyof typeof BUILTIN_CREWS;
export const BUILTIN_CREW_NAMES = Object.keys(BUILTIN_CREWS) as BuiltinCrewName[];

export function isBuiltinCrewName(name: string): name is BuiltinCrewName {
  return Object.hasOwn(BUILTIN_CREWS, name);
}

/** Parses and validates a built-in crew (with the same schema as any crew file). */
export function loadBuiltinCrew(name: string): CrewDefinition {
  if (!isBuiltinCrewName(name)) {
    throw EngineError.permanent(
      'invalid_crew',
      `unknown crew "${name}"; built-in crews: ${BUILTIN_CREW_NAMES.join(', ')}`,
    );
  }
  return parseCrew(BUILTIN_CREWS[name], 'yaml');
}

/** The YAML text of a built-in crew, e.g. as a starting point for a custom one. */
export function builtinCrewSource(name: BuiltinCrewName): string {
  return BUILTIN_CREWS[name].trimStart();
}
