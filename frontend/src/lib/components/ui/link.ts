export { textLink } from './button';
