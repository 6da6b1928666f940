import { sectionSchemas } from '../shared/section.js';

export const DirectionSchemas = sectionSchemas('planId', 'Direction', 'A strategic direction of a plan.');
