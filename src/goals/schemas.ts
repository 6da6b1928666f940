import { sectionSchemas } from '../shared/section.js';

export const GoalSchemas = sectionSchemas('directionId', 'Goal', 'A goal under a strategic direction.');
