/** Types of mutation-areas.mjs, which stays plain ESM so that stryker.config.mjs can import it. */
export interface MutationArea {
  mutate: string[];
  tests: string[];
}
export declare const AREAS: Record<string, MutationArea>;
export declare function areaOf(name: string | undefined): MutationArea & { name: string };
